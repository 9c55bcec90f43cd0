"""What a failed execution says: the user's error, in the words a local run uses.

Step Functions reports a failure as an ``Error`` name and a ``Cause`` whose shape depends on
who failed: the runner Lambda (a :class:`protocol.FailureCause` in Lambda's error envelope),
an ECS task or a Batch job (their description, with an exit code only: the container
recorded the user's error under :func:`protocol.container_error_key`), or the state's own
timer (``States.Timeout``: the node and attempt are in the timed-out state's parameters).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow.errors import ExecutionError, TaskFailedError, TaskTimeoutError
from stratoflow.ir import protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["FailedExecution", "failure"]

STATES_TIMEOUT = protocol.STATES_TIMEOUT


@dataclass(frozen=True)
class FailedExecution:
    """Where to read more about one failed execution."""

    run_id: str
    arn: str
    spec: ir.WorkflowSpec
    s3: S3Client
    sfn: SFNClient
    bucket: str


def failure(run: FailedExecution, status: str, error: str | None, cause: str | None) -> ExecutionError:
    """The error to raise for ``run``, which ended in ``status`` with ``error`` and ``cause``."""
    parsed = _json(cause)
    if isinstance(parsed, dict) and "errorMessage" in parsed:  # Lambda's error envelope
        parsed = _json(parsed["errorMessage"]) or {"message": parsed["errorMessage"]}
    head = f"execution {run.run_id} {status}"
    if error == STATES_TIMEOUT:
        timed_out = _timeout(run, head)
        if timed_out is not None:
            return timed_out
    if isinstance(parsed, dict) and "Containers" in parsed:  # an ECS task that did not exit 0
        return _container_failure(run, head, error, _ecs_environment(parsed), _ecs_text(parsed))
    if isinstance(parsed, dict) and "JobQueue" in parsed and "Attempts" in parsed:  # a failed Batch job
        container = parsed.get("Container") or {}
        environment = {e.get("Name"): e.get("Value") for e in container.get("Environment", [])}
        return _container_failure(run, head, error, environment, _batch_text(parsed))
    task_cause = protocol.FailureCause.parse(parsed)
    if task_cause is not None:
        return _task_error(head, task_cause, error)
    return ExecutionError(f"{head}: {error or 'unknown error'}: {cause or ''}".rstrip(": "))


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _task_error(
    head: str, cause: protocol.FailureCause, error: str | None, suffix: str = ""
) -> TaskFailedError:
    message = cause.message if cause.message is not None else error
    # A timeout the runner kept itself (a @dynamic graph's node): the local executor's class too.
    kind = TaskTimeoutError if cause.error == STATES_TIMEOUT else TaskFailedError
    return kind(
        f"{head}: {message}{suffix}",
        node=cause.node,
        attempt=cause.attempt if cause.attempt is not None else 1,
        error_type=cause.error or error or "Exception",
        traceback_text=cause.traceback,
    )


def _container_failure(
    run: FailedExecution, head: str, error: str | None, environment: Mapping[Any, Any], text: str
) -> ExecutionError:
    node = environment.get(protocol.ENV_NODE)
    if node is None:
        return ExecutionError(f"{head}: {text}")
    recorded = _recorded_error(run, environment)
    if recorded is not None:
        return _task_error(head, recorded, error, f" ({text})")
    return TaskFailedError(
        f"{head}: {text}",
        node=str(node),
        attempt=_int(environment.get(protocol.ENV_ATTEMPT)),
        error_type=error or protocol.STATES_TASK_FAILED,
    )


def _recorded_error(run: FailedExecution, environment: Mapping[Any, Any]) -> protocol.FailureCause | None:
    """The error the failed container recorded, if this very attempt recorded one (a container that
    died before it could, e.g. out of memory, leaves an earlier attempt's record, never reported)."""
    run_id, node = environment.get(protocol.ENV_RUN), environment.get(protocol.ENV_NODE)
    if run_id is None or node is None:
        return None
    try:
        # A @dynamic sub-run's containers record theirs under the same workflow.
        key = protocol.container_error_key(run.spec.name, str(run_id), str(node))
        body = run.s3.get_object(Bucket=run.bucket, Key=key)
    except run.s3.exceptions.NoSuchKey:
        return None
    cause = protocol.FailureCause.parse(_json(body["Body"].read().decode("utf-8", "replace")))
    if cause is None or cause.attempt != _int(environment.get(protocol.ENV_ATTEMPT)):
        return None
    return cause


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 1


def _ecs_environment(task: dict[str, Any]) -> dict[Any, Any]:
    return {
        entry.get("Name"): entry.get("Value")
        for override in task.get("Overrides", {}).get("ContainerOverrides", [])
        for entry in override.get("Environment", [])
    }


def _ecs_text(task: dict[str, Any]) -> str:
    container = (task.get("Containers") or [{}])[0]
    where = task.get("CapacityProviderName") or task.get("LaunchType") or "Fargate"
    return (
        f"container on {where} exited with code {container.get('ExitCode')} "
        f"({task.get('StopCode')}: {task.get('StoppedReason')})"
    )


def _batch_text(job: dict[str, Any]) -> str:
    attempts = job.get("Attempts") or [{}]
    exit_code = (attempts[-1].get("Container") or {}).get("ExitCode")
    queue = str(job.get("JobQueue", "")).rsplit("/", 1)[-1]
    return (
        f"AWS Batch job {job.get('JobName')} on queue {queue} failed "
        f"after {len(attempts)} attempt(s): {job.get('StatusReason')} (exit code {exit_code})"
    )


def _timeout(run: FailedExecution, head: str) -> TaskTimeoutError | None:
    """A ``States.Timeout`` in the local executor's words: the node, its timeout, the attempt.

    The last scheduled task is the one that timed out; its parameters hold the runner's event
    (a Lambda payload, or a container's environment). Events are ordered by id here, since
    moto ignores ``reverseOrder``; a timeout is rare enough to read the history whole.
    """
    scheduled: list[Any] = []
    pages = run.sfn.get_paginator("get_execution_history").paginate(executionArn=run.arn)
    for page in pages:
        scheduled.extend(e for e in page["events"] if e.get("taskScheduledEventDetails") is not None)
    for event in sorted(scheduled, key=lambda e: -int(e["id"])):
        details = event["taskScheduledEventDetails"]
        fields = _event_fields(_json(details.get("parameters")))
        node = fields.get("node")
        if node is None:
            continue
        timeout = _node_timeout(run.spec, str(node))
        if timeout is None:  # not the node's own timer (the execution's, say): reported as is
            return None
        attempt = _int(fields.get("attempt"))
        return TaskTimeoutError(
            f"{head}: node '{node}' timed out after {timeout}s (attempt {attempt})",
            node=str(node),
            attempt=attempt,
            error_type=STATES_TIMEOUT,
        )
    return None


def _event_fields(parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, dict):
        return {}
    payload = parameters.get("Payload")
    if isinstance(payload, dict):  # the runner Lambda's event
        return payload
    overrides = parameters.get("Overrides", {}).get("ContainerOverrides") or [
        parameters.get("ContainerOverrides") or {}
    ]
    environment = _ecs_environment({"Overrides": {"ContainerOverrides": overrides}})
    return {
        "node": environment.get(protocol.ENV_NODE),
        "attempt": environment.get(protocol.ENV_ATTEMPT),
    }


def _node_timeout(spec: ir.WorkflowSpec, node_id: str) -> int | None:
    try:
        node = spec.node(node_id)
    except (KeyError, ValueError):
        return None
    return spec.tasks[node.task].timeout_seconds
