"""The trigger-starter Lambda: an S3 "Object Created" event (via EventBridge) starts the
executions of the workflows whose triggers match the object, once per object version.

A thin shell, like ``task_runner``: powertools for logs and traces, the event parsed by
pydantic, everything else in ``stratoflow.client`` (``start_triggered_runs``). A
duplicated event is logged and ignored; any other failure raises, so EventBridge and
Lambda's asynchronous retries deliver the event again (and a retry starts nothing twice).
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

from stratoflow.client import S3ObjectEvent, TriggerSettings, start_triggered_runs

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

logger = Logger(service="stratoflow-trigger-starter", stream=sys.stderr)
tracer = Tracer(service="stratoflow-trigger-starter")

_CLIENTS_LOCK = threading.Lock()


@cache
def _clients() -> tuple[S3Client, SFNClient]:
    # boto3's default session is not thread-safe while it builds clients.
    with _CLIENTS_LOCK:
        return boto3.client("s3"), boto3.client("stepfunctions")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Start the runs ``event`` (an EventBridge ``aws.s3`` event) triggers; return what each did."""
    return start(event, os.environ)


def start(event: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The handler's work with its settings passed in (the emulated stack calls this directly,
    so the starter's environment never overlays the process environment a runner reads)."""
    s3_event = S3ObjectEvent.model_validate(event)
    settings = TriggerSettings.from_env(environ)
    logger.append_keys(bucket=s3_event.bucket, key=s3_event.key)
    s3, sfn = _clients()
    outcomes = start_triggered_runs(s3_event, settings, s3=s3, sfn=sfn)
    for outcome in outcomes:
        extra = {"workflow": outcome.workflow, "execution": outcome.run_id}
        if outcome.status == "started":
            logger.info("execution started", extra={**extra, "inputs_existed": outcome.inputs_existed})
        elif outcome.status == "duplicate":
            logger.info("duplicate event: execution already exists, nothing started", extra=extra)
        else:
            logger.warning("object no longer exists, nothing started", extra=extra)
    if not outcomes:
        logger.info("no trigger matches this object")
    return {"runs": [dataclasses.asdict(outcome) for outcome in outcomes]}
