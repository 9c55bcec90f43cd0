"""Patch for moto's Docker-less AWS Batch: run a job's container entrypoint in-process.

moto runs Batch jobs in Docker; with ``{"batch": {"use_docker": False}}`` (the harness's
config) its "simple" backend marks every job SUCCEEDED without running anything, so
``batch:submitJob.sync`` would succeed with no outputs written. The patch runs the
entrypoint registered for the job definition, with the job's environment (the job
definition's merged with the ``ContainerOverrides``, as AWS does), and ends the job the
way AWS Batch reports it, so the Step Functions integration's ``States.TaskFailed`` Cause
(the DescribeJobs job as JSON) has AWS's shape:

* exit 0: ``SUCCEEDED``;
* non-zero exit or a crash: ``FAILED``, ``statusReason`` "Essential container in task exited";
* :class:`~stratoflow.testing.SpotInterruption` raised: ``FAILED`` with
  ``statusReason`` "Host EC2 (instance i-...) terminated." (a reclaimed Spot instance).

The job definition's container ``secrets`` are read from moto's Secrets Manager into the
environment, as Batch's agent does; one that names no secret fails the job before its container
starts, with the ``ResourceInitializationError`` reason AWS gives.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import TYPE_CHECKING, Any

from stratoflow.testing._patches_ecs import (
    EcsEntrypoint,
    SpotInterruption,
    missing_secret_reason,
    read_secrets,
)
from stratoflow.testing._patching import Patcher, Undo, install_patch

if TYPE_CHECKING:
    from moto.batch.models import Job
    from moto.batch_simple.models import BatchSimpleBackend

__all__ = [
    "APP_FAILURE_REASON",
    "install_batch_inprocess",
    "register_batch_entrypoint",
    "spot_reclaim_reason",
    "unregister_batch_entrypoint",
]

_LOG = logging.getLogger(__name__)
_ENTRYPOINTS: dict[str, EcsEntrypoint] = {}
_LOCK = threading.Lock()
APP_FAILURE_REASON = "Essential container in task exited"


def spot_reclaim_reason(job_id: str) -> str:
    """The ``statusReason`` AWS Batch gives a job whose Spot host was reclaimed."""
    return f"Host EC2 (instance i-{job_id.replace('-', '')[:17]}) terminated."


def register_batch_entrypoint(job_definition: str, entrypoint: EcsEntrypoint) -> None:
    """Run ``entrypoint(env, command)`` for every job of job definition ``job_definition`` (its name)."""
    with _LOCK:
        _ENTRYPOINTS[job_definition] = entrypoint


def unregister_batch_entrypoint(job_definition: str) -> None:
    """Forget the entrypoint of ``job_definition``."""
    with _LOCK:
        _ENTRYPOINTS.pop(job_definition, None)


def _env_and_command(job: Job) -> tuple[dict[str, str], list[str]]:
    properties: dict[str, Any] = job.job_definition.container_properties or {}
    env = {e["name"]: e["value"] for e in properties.get("environment") or []}
    env.update({e["name"]: e["value"] for e in job.container_overrides.get("environment") or []})
    env["AWS_BATCH_JOB_ID"] = job.job_id
    command = list(job.container_overrides.get("command") or properties.get("command") or [])
    return env, command


def _run(job: Job, entrypoint: EcsEntrypoint) -> None:
    """Run the job's main and end the job with AWS Batch's status, reason and exit code."""
    env, command = _env_and_command(job)
    properties: dict[str, Any] = job.job_definition.container_properties or {}
    secrets, missing = read_secrets(properties.get("secrets") or [], str(job.job_definition.arn))
    exit_code: int | None
    reason: str | None
    try:
        if missing:  # the agent cannot start the container: no exit code
            exit_code = None
            reason = missing_secret_reason(missing)
        else:
            exit_code = int(entrypoint({**env, **secrets}, command))
            reason = APP_FAILURE_REASON if exit_code else None
    except SpotInterruption:
        exit_code, reason = None, spot_reclaim_reason(job.job_id)
    except Exception:  # noqa: BLE001 - a crash of the container's main is exit code 1, as in a real container
        _LOG.exception("in-process Batch entrypoint raised")
        exit_code, reason = 1, APP_FAILURE_REASON
    job.exit_code = exit_code
    job.job_stopped_reason = reason
    if job.latest_attempt is not None:
        container = job.latest_attempt["container"]
        if exit_code is not None:
            container["exitCode"] = exit_code
        if reason is not None:
            container["reason"] = reason
            job.latest_attempt["statusReason"] = reason
    job._mark_stopped(success=reason is None)


def install_batch_inprocess() -> Undo:
    """Run the registered entrypoint of each submitted job and end it as AWS Batch would.

    moto's Docker-less backend calls ``_mark_job_as_finished`` right after SubmitJob and
    marks the job SUCCEEDED; here, for a job definition with a registered entrypoint, the
    entrypoint runs first (synchronously, inside SubmitJob) and decides the outcome. Jobs
    of other definitions keep moto's behaviour.
    """

    def apply(p: Patcher) -> None:
        # moto's Batch models import EC2's and ECS's: loaded when a workflow first uses Batch.
        from moto.batch_simple.models import BatchSimpleBackend  # noqa: PLC0415 - see install_patch

        orig = BatchSimpleBackend._mark_job_as_finished

        def mark_job_as_finished(self: BatchSimpleBackend, include_start_attempt: bool, job: Job) -> None:
            with _LOCK:
                entrypoint = _ENTRYPOINTS.get(job.job_definition.name)
            if entrypoint is None or not include_start_attempt:  # array parents run nothing themselves
                orig(self, include_start_attempt, job)
                return
            self.backend._jobs[job.job_id] = job
            job.job_started_at = datetime.datetime.now()
            job.log_stream_name = job._stream_name
            job._start_attempt()
            _run(job, entrypoint)

        p.setattr(BatchSimpleBackend, "_mark_job_as_finished", mark_job_as_finished)

    return install_patch("install_batch_inprocess", apply, service="batch")
