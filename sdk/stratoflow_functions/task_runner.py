"""The task-runner Lambda: one invocation runs one workflow node (or checks its cache).

A thin shell: powertools for logs, traces and metrics; a pydantic-parsed event;
everything else is ``stratoflow.runtime.aws``. Settings and clients are created inside the
handler (cached per container), never at import time.
"""

from __future__ import annotations

import sys
import threading
import time
from functools import cache
from typing import Any

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from stratoflow import ir
from stratoflow.aws import SecretsManagerStore
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.runtime.aws import AwsRunnerEnv, RunnerSettings, Where, run_node_event, step_functions_error

logger = Logger(service="stratoflow-task-runner", stream=sys.stderr)
tracer = Tracer(service="stratoflow-task-runner")


_CLIENTS_LOCK = threading.Lock()


@cache
def _clients(bucket: str, table: str) -> tuple[Any, Any, SecretsManagerStore]:
    # One set per data plane (the key keeps a sandbox's clients apart from another's);
    # boto3's default session is not thread-safe while it builds clients. The secrets store
    # (and its per-container cache) makes its client only when a task reads a secret.
    def secrets_client() -> Any:
        with _CLIENTS_LOCK:
            return boto3.client("secretsmanager")

    with _CLIENTS_LOCK:
        return boto3.client("s3"), boto3.client("dynamodb"), SecretsManagerStore(secrets_client)


def _env(settings: RunnerSettings, where: Where | None = None) -> AwsRunnerEnv:
    s3, dynamodb, secrets = _clients(settings.bucket, settings.cache_table)
    return AwsRunnerEnv(s3=s3, dynamodb=dynamodb, settings=settings, where=where or Where(), secrets=secrets)


def _where(context: LambdaContext) -> Where:
    """This invocation's log group and stream, for the node records it writes."""
    group = getattr(context, "log_group_name", None) or None
    stream = getattr(context, "log_stream_name", None) or None
    logs = None if group is None else ir.LogLocation(kind="cloudwatch", group=group, stream=stream)
    return Where(target="lambda", logs=logs)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    """Run the node named in ``event``; raise the user's exception name on failure."""
    # Metrics live per invocation: a shared Metrics object is flushed by whichever
    # invocation ends first when several share a process (as map batches do when emulated).
    remaining = context.get_remaining_time_in_millis() / 1000
    metrics = EphemeralMetrics(namespace="stratoflow", service="task-runner")
    return _run(event, metrics, remaining, where=_where(context))


def _run(
    event: dict[str, Any],
    metrics: EphemeralMetrics,
    remaining: float | None = None,
    *,
    where: Where | None = None,
) -> dict[str, object]:
    node_event = protocol.NodeEvent.model_validate(event)
    logger.append_keys(execution=node_event.run, node=node_event.node, mode=node_event.mode)
    settings = RunnerSettings.from_env()
    env = _env(settings, where)
    started = time.perf_counter()
    try:
        result = run_node_event(node_event, env, remaining_seconds=remaining)
    except TaskFailedError as exc:
        logger.warning("task failed", extra={"error_type": exc.error_type, "attempt": exc.attempt})
        metrics.add_metric(name="TaskFailed", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        raise step_functions_error(exc) from exc
    hit = result.served_from_cache()
    metrics.add_metric(name="CacheHit" if hit else "CacheMiss", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="TaskDuration", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
    )
    metrics.flush_metrics()
    logger.info("node finished", extra={"cache_hit": hit})
    return result.model_dump(mode="json")
