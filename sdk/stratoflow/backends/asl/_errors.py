"""Amazon States Language error names shared by the compiler's Retry/Catch and the runtime.

One module holds every ``Error`` name so the task runner (which raises them) and the
compiler (which matches them) cannot drift apart (STYLE §4).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "LAMBDA_TRANSIENT_ERRORS",
    "SPOT_INTERRUPTION_STOP_CODE",
    "STATES_ALL",
    "STATES_TASK_FAILED",
    "TASK_FAILED",
]

TASK_FAILED: Final = "Sdk.TaskFailed"
"""Error name for a failed task whose exception class name could not be used as the Error."""

STATES_ALL: Final = "States.ALL"
"""Matches every error except ``States.DataLimitExceeded`` and ``States.Runtime``; alone and last."""

STATES_TASK_FAILED: Final = "States.TaskFailed"
"""What ``ecs:runTask.sync`` raises for any stopped-with-failure task, Spot interruptions included."""

LAMBDA_TRANSIENT_ERRORS: Final = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
)
"""Lambda service-side errors that say nothing about the task itself, so they are always retried."""

SPOT_INTERRUPTION_STOP_CODE: Final = "SpotInterruption"
"""ECS ``stopCode`` of a Fargate Spot task reclaimed by AWS (in the failed state's JSON ``Cause``)."""
