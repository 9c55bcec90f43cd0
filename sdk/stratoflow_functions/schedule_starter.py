"""The schedule-starter Lambda: an EventBridge Scheduler delivery starts its launch plan's run,
once per scheduled occurrence.

A thin shell, like ``trigger_starter``: powertools for logs and traces, the event parsed by
pydantic, the rest in ``stratoflow.client`` (``start_scheduled_run``). A duplicate delivery is
logged and ignored; any other failure raises, so Scheduler's retry policy delivers the
occurrence again (and then to its dead-letter queue), and a retry starts nothing twice.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from stratoflow.client import ScheduleSettings, start_scheduled_run
from stratoflow.ir import protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(service="stratoflow-schedule-starter", stream=sys.stderr)
tracer = Tracer(service="stratoflow-schedule-starter")

_CLIENTS_LOCK = threading.Lock()


@cache
def _clients() -> tuple[S3Client, SFNClient]:
    # boto3's default session is not thread-safe while it builds clients.
    with _CLIENTS_LOCK:
        return boto3.client("s3"), boto3.client("stepfunctions")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Start the run of the occurrence ``event`` (``protocol.ScheduledStart``) names; return what it did."""
    return start(event, os.environ)


def start(event: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The handler's work with its settings passed in (the emulated stack calls this directly)."""
    scheduled = protocol.ScheduledStart.model_validate(event)
    settings = ScheduleSettings.from_env(environ)
    logger.append_keys(plan=scheduled.plan, scheduled_time=scheduled.scheduled_time)
    s3, sfn = _clients()
    outcome = start_scheduled_run(scheduled, settings, s3=s3, sfn=sfn)
    if outcome.status == "started":
        logger.info("execution started", extra={"execution": outcome.run_id})
    else:
        logger.info(
            "duplicate delivery: execution already exists, nothing started",
            extra={"execution": outcome.run_id},
        )
    return dataclasses.asdict(outcome)
