"""ASL states for a task node routed to AWS Batch (``batch:submitJob.sync``).

A Batch node mirrors a Fargate node: an optional cache check, the job, and for an
interruptible task a Spot attempt (retried on Spot per ``retries``) followed by one last
attempt on on-demand capacity when the Spot attempts ended in a reclaim. The job runs the
same container entrypoint with the same environment (``protocol.container_environment``) as the ECS task.

A reclaimed Spot instance fails the job with a ``StatusReason`` of
``Host EC2 (instance i-...) terminated.`` (the pattern AWS Batch's own retry strategies
match with ``onStatusReason: "Host EC2*"``); ``submitJob.sync`` raises
``States.TaskFailed`` with the DescribeJobs job, as JSON, in ``Cause``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from stratoflow import ir, routing
from stratoflow.backends.asl import _states
from stratoflow.ir import protocol

__all__ = [
    "BATCH_TARGETS",
    "SPOT_FALLBACK",
    "SPOT_RECLAIM_STATUS_REASON",
    "SUBMIT_JOB_SYNC",
    "batch_job_definition_name",
    "batch_job_definition_placeholder",
    "batch_queue_placeholder",
    "submit_job",
]

State = dict[str, Any]

SUBMIT_JOB_SYNC: Final = "arn:aws:states:::batch:submitJob.sync"
BATCH_TARGETS: Final = ("batch", "batch_spot")
SPOT_RECLAIM_STATUS_REASON: Final = protocol.SPOT_RECLAIM_STATUS_REASON
_MAX_JOB_NAME = 128


def batch_queue_placeholder(route: routing.Route, *, spot: bool) -> str:
    """The job-queue placeholder of a Batch route (:func:`protocol.batch_queue`).

    Example:
        >>> r = routing.route(routing.ir.ResourcesSpec(gpu=1))
        >>> batch_queue_placeholder(r, spot=True) == protocol.ref("BatchQueue_gpu_spot")
        True
    """
    return protocol.ref(protocol.batch_queue(route.pool, spot=spot))


def batch_job_definition_name(
    route: routing.Route, image: ir.ImageRef | None = None, secrets: Sequence[ir.SecretRequest] = ()
) -> str:
    """The job-definition placeholder name of a Batch route: shape ``vcpu<N>_mem<MiB>[_gpu<N>]``,
    plus ``_sec<hash>`` for a task that requests secrets (Batch injects them from the job
    definition, as ECS does from a task definition: ``_states.secrets_suffix``), per image for a
    task with one (:func:`protocol.image_shape`)."""
    shape = f"vcpu{route.vcpus}_mem{route.memory_mib}"
    if route.gpus:
        shape += f"_gpu{route.gpus}"
    shape += _states.secrets_suffix(secrets)
    return protocol.batch_job_definition(protocol.image_shape(shape, image.tag if image else None))


def batch_job_definition_placeholder(
    route: routing.Route, image: ir.ImageRef | None = None, secrets: Sequence[ir.SecretRequest] = ()
) -> str:
    """The job-definition placeholder of a Batch route, by shape ``vcpu<N>_mem<MiB>[_gpu<N>]``.

    Example:
        >>> r = routing.route(routing.ir.ResourcesSpec(cpu=4, memory_mib=16384, gpu=1))
        >>> batch_job_definition_placeholder(r) == protocol.ref("BatchJobDef_vcpu4_mem16384_gpu1")
        True
    """
    return protocol.ref(batch_job_definition_name(route, image, secrets))


def submit_job(ctx: _states.NodeContext, *, spot: bool, retries: int, first_attempt: int = 1) -> State:
    """One ``submitJob.sync`` state on the Spot or on-demand queue of the node's pool."""
    parameters: State = {
        # A job name allows letters, digits, '-' and '_': node ids are sanitized identifiers.
        "JobName": ctx.node.id[:_MAX_JOB_NAME],
        "JobQueue": batch_queue_placeholder(ctx.route, spot=spot),
        "JobDefinition": batch_job_definition_placeholder(ctx.route, ctx.task.image, ctx.task.secrets),
        "ContainerOverrides": {
            "Environment": _states.container_environment(ctx, first_attempt=first_attempt)
        },
    }
    state: State = {"Type": "Task", "Resource": SUBMIT_JOB_SYNC, "Parameters": parameters, "ResultPath": None}
    retry = _states._retry_task(retries)
    if retry:
        state["Retry"] = retry
    return _states._with_timeout(state, ctx.task, ctx.timeout_path)


SPOT_FALLBACK: Final = _states.SpotFallback(
    run=submit_job,
    parsed="batch_job",
    field="StatusReason",
    # A reclaimed Spot instance: the job's StatusReason is "Host EC2 (instance i-...) terminated."
    rule={"StringMatches": SPOT_RECLAIM_STATUS_REASON},
    choice_suffix="__reclaimed",
)
"""Batch reports a reclaimed Spot host in the job's ``StatusReason`` (see ``_states.spot_attempts``)."""
