"""A remote run's per-node records: the runner writes an ``ir.NodeRecord`` beside the node's outputs.

One object per node at ``ir.node_record_key(run, node)`` (a ``running`` record is replaced by the
outcome), and one object per *batch* of map items at ``node_record_key(run, node, first_index)``
holding every item of the batch (``{"items": [...]}``): a map of 10,000 trivial items costs a PUT
per batch, not per item, and :func:`parse_records` expands it. A batch run again (a retried
container batch) overwrites its own object. Recording is bookkeeping: a failed PUT never fails
the node (the client completes what is missing from the execution history).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from stratoflow import ir
from stratoflow.errors import TaskFailedError
from stratoflow.ir import _node_record
from stratoflow.values import ItemResult

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "RecordWriter",
    "Where",
    "awslogs_location",
    "container_where",
    "parse_records",
    "record_name",
]

logger = logging.getLogger("stratoflow.records")

T = TypeVar("T")

BATCH_FIELD: Final = "items"
"""The field of a batch object that holds its items' records."""


@dataclass(frozen=True)
class Where:
    """Where this runner process runs user code, and where its log lines go."""

    target: _node_record.Target = "lambda"
    logs: ir.LogLocation | None = None


METADATA_ENV: Final = "ECS_CONTAINER_METADATA_URI_V4"
"""Set by ECS in every container it starts (Fargate tasks and AWS Batch jobs alike)."""


def container_where(environ: Mapping[str, str]) -> Where:
    """A container's target (AWS Batch sets ``AWS_BATCH_JOB_ID`` in its jobs, ECS does not) and its
    log stream, which the awslogs driver names (``<prefix>/<container>/<task id>``): the container's
    metadata endpoint says which (:func:`awslogs_location`)."""
    uri = environ.get(METADATA_ENV)
    target: _node_record.Target = "batch" if environ.get("AWS_BATCH_JOB_ID") else "fargate"
    return Where(target=target, logs=None if not uri else awslogs_location(uri))


def awslogs_location(metadata_uri: str, timeout: float = 1.0) -> ir.LogLocation | None:
    """This container's CloudWatch group and stream, from the ECS task metadata endpoint (v4) at
    ``metadata_uri``; ``None`` when it does not log with awslogs or cannot be asked."""
    try:
        with urllib.request.urlopen(metadata_uri, timeout=timeout) as response:  # noqa: S310 - ECS's own URI
            metadata = json.loads(response.read())
    except (OSError, ValueError) as exc:
        logger.warning("no log location from the container metadata endpoint: %s", exc)
        return None
    if not isinstance(metadata, dict) or metadata.get("LogDriver") != "awslogs":
        return None
    options = metadata.get("LogOptions") or {}
    group, stream = options.get("awslogs-group"), options.get("awslogs-stream")
    if not group:
        return None
    return ir.LogLocation(kind="cloudwatch", group=str(group), stream=None if stream is None else str(stream))


def record_name(run_id: str, node: str) -> tuple[str, str]:
    """(top run id, record name) of ``node`` in (sub-)run ``run_id``: a ``@dynamic``'s sub-run id is
    ``<parent run>.<node>`` (``sub_run_id``), so its children are ``<node>/<child>``, as locally."""
    top, *parents = run_id.split(".")
    return top, "".join(f"{p}/" for p in parents) + node


def parse_records(body: bytes) -> list[ir.NodeRecord]:
    """The records in one stored object: one node's, or a batch of map items'."""
    data = json.loads(body)
    if isinstance(data, dict) and BATCH_FIELD in data:
        return [ir.NodeRecord.model_validate(item) for item in data[BATCH_FIELD]]
    return [ir.NodeRecord.model_validate(data)]


def _error_fields(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, TaskFailedError):
        return {"error": str(exc), "traceback": exc.traceback_text}
    return {"error": f"{type(exc).__name__}: {exc}"}


class RecordWriter:
    """Writes the records of one (sub-)run's nodes into the data bucket."""

    def __init__(self, s3: S3Client, bucket: str, workflow: str, run_id: str, where: Where) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.workflow = workflow
        self.top, self._parents = record_name(run_id, "")
        self.where = where

    def _put(self, key: str, body: str) -> None:
        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/json"
            )
        except Exception as exc:  # noqa: BLE001 - bookkeeping never fails the node it describes
            logger.warning("could not write node record %s: %s", key, exc)

    def name(self, node: str) -> str:
        return self._parents + node

    def node(self, node: str, status: ir.NodeStatus, **fields: Any) -> None:
        """Write ``node``'s record (``fields``: the rest of an ``ir.NodeRecord``)."""
        record = ir.NodeRecord(run_id=self.top, node=self.name(node), status=status, **fields)
        self._put(
            _node_record.node_record_key(self.workflow, self.top, record.node),
            record.model_dump_json(exclude_defaults=True),
        )

    def read(self, node: str) -> ir.NodeRecord | None:
        """``node``'s record as written so far (a map's ``running`` one), or ``None``."""
        try:
            body = self.s3.get_object(
                Bucket=self.bucket, Key=_node_record.node_record_key(self.workflow, self.top, self.name(node))
            )["Body"].read()
        except Exception:  # noqa: BLE001 - none written, or unreadable: the outcome is written anyway
            return None
        return parse_records(body)[0]

    def target(self, spec: ir.WorkflowSpec, node: str, attempt: int) -> _node_record.Target:
        """This attempt's target: an interruptible Fargate task runs on Spot but for its last attempt."""
        if self.where.target != "fargate":
            return self.where.target
        task = spec.tasks[spec.node(node).task]
        return "fargate-spot" if task.interruptible and attempt <= task.retries else "fargate"

    def begin(self, spec: ir.WorkflowSpec, node: str, attempt: int) -> dict[str, Any]:
        """Record that an attempt of ``node`` started; returns the fields its outcome repeats."""
        ran: dict[str, Any] = {
            "started": time.time(),
            "target": self.target(spec, node, attempt),
            "logs": self.where.logs,
        }
        self.node(node, ir.NodeStatus.RUNNING, attempts=attempt, **ran)
        return ran

    def fail(self, node: str, attempt: int, ran: dict[str, Any], exc: BaseException) -> None:
        """Record that the attempt :meth:`begin` started raised ``exc``."""
        failed = {"attempts": attempt, "finished": time.time(), **_error_fields(exc)}
        self.node(node, ir.NodeStatus.FAILED, **failed, **ran)

    def end(self, node: str) -> None:
        """Record that ``node`` (begun by an earlier invocation: a ``@dynamic``'s sub-run) succeeded."""
        begun = self.read(node)
        if begun is None:
            self.node(node, ir.NodeStatus.SUCCEEDED, finished=time.time())
            return
        done = begun.model_copy(update={"status": ir.NodeStatus.SUCCEEDED, "finished": time.time()})
        self._put(
            _node_record.node_record_key(self.workflow, self.top, done.node),
            done.model_dump_json(exclude_defaults=True),
        )

    def attempt(
        self,
        spec: ir.WorkflowSpec,
        node: str,
        attempt: int,
        run: Callable[[], tuple[bool, str | None]],
        *,
        deck: Callable[[], str | None] | None = None,
    ) -> tuple[bool, str | None]:
        """Run one attempt of task node ``node`` (``run``: (cache hit, cache key)), recording it
        (``deck``: where its deck page is, once it ran)."""
        ran = self.begin(spec, node, attempt)
        try:
            hit, key = run()
        except BaseException as exc:
            self.fail(node, attempt, ran, exc)
            raise
        if hit:  # served from the cache: no user code ran, so nowhere and no log (as locally)
            ran.update(target="none", logs=None)
        else:
            ran["deck"] = None if deck is None else deck()
        status = ir.NodeStatus.CACHED if hit else ir.NodeStatus.SUCCEEDED
        done = {"attempts": 0 if hit else attempt, "cache_key": key, "cache_hit": hit}
        self.node(node, status, finished=time.time(), **done, **ran)
        return hit, key

    def items(
        self, spec: ir.WorkflowSpec, node: str, results: Mapping[int, ItemResult], attempt: int = 1
    ) -> None:
        """Write one batch of map items' outcomes as one object."""
        if not results:
            return
        target = self.target(spec, node, attempt)
        name = self.name(node)
        batch = [
            _item_record(
                self.top, node=name, index=index, result=result, target=target, logs=self.where.logs
            ).model_dump(mode="json", exclude_defaults=True)
            for index, result in sorted(results.items())
        ]
        first = min(results)
        self._put(
            _node_record.node_record_key(self.workflow, self.top, name, first),
            json.dumps({BATCH_FIELD: batch}),
        )


def _item_record(
    run_id: str,
    *,
    node: str,
    index: int,
    result: ItemResult,
    target: _node_record.Target,
    logs: ir.LogLocation | None,
) -> ir.NodeRecord:
    exc = result.exception
    if result.cache_hit:
        status, target, logs = ir.NodeStatus.CACHED, "none", None
    else:
        status = ir.NodeStatus.FAILED if result.error is not None else ir.NodeStatus.SUCCEEDED
    return ir.NodeRecord(
        run_id=run_id,
        node=node,
        item=index,
        status=status,
        attempts=result.attempts,
        started=result.started,
        finished=result.finished,
        target=target,
        cache_key=result.cache_key,
        cache_hit=result.cache_hit,
        error=result.error,
        traceback=exc.traceback_text if isinstance(exc, TaskFailedError) else None,
        logs=logs,
    )
