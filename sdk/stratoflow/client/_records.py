"""A remote run's per-node records: what the runner wrote, completed from the execution.

The runner writes a record per node attempt and per batch of map items (``runtime._remote_records``).
What it cannot write is filled in here, from the execution's status, its failure, the nodes whose
outputs are stored and the spec:

- a node whose record still says ``running`` when the execution has ended: ``failed`` (it was cut
  off: a ``States.Timeout``, a killed container, a sibling's failure stopping its branch), with the
  execution's error when that error names it;
- a node with no record that the execution's failure names (it failed before the runner ran):
  ``failed``, with that error and attempt;
- a node with no record whose outputs are stored (a ``@dynamic`` node; a conditional or a gate
  finished by a runner from before they recorded themselves): ``succeeded``;
- the ``on_failure`` node with neither: nothing (it runs only once a run failed, as locally);
- any other node of the spec, once the execution has ended: ``skipped`` (a case not taken, or
  never reached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from stratoflow import ir
from stratoflow.aws import S3OutputStore
from stratoflow.client._failures import FailedExecution, failure
from stratoflow.errors import TaskFailedError, TaskTimeoutError
from stratoflow.ir import _node_record
from stratoflow.runtime._remote_records import parse_records

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["RemoteRun", "remote_node_records", "stored_records"]

_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_NEVER = float("inf")  # a never-started node sorts after every started one


@dataclass(frozen=True)
class RemoteRun:
    """One execution, and what reading its records needs."""

    run_id: str
    arn: str
    spec: ir.WorkflowSpec
    s3: S3Client
    sfn: SFNClient
    bucket: str


RecordsSeen: TypeAlias = "dict[str, tuple[str, list[ir.NodeRecord]]]"
"""The record objects a reader has read: key -> (ETag, its records)."""


def stored_records(
    s3: S3Client,
    bucket: str,
    workflow: str,
    run_id: str,
    seen: RecordsSeen | None = None,
) -> list[ir.NodeRecord]:
    """Every record the runner wrote for ``run_id`` of ``workflow`` (map batches expanded), in key order.

    ``seen`` (key -> (ETag, records)), kept by a poller between calls, spares a GET for every
    object unchanged since the last listing: a running map's finished batches are read once.
    """
    records: list[ir.NodeRecord] = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=_node_record.node_records_prefix(workflow, run_id)
    )
    for page in pages:
        for entry in page.get("Contents", []):
            key, etag = entry["Key"], entry.get("ETag", "")
            known = None if seen is None else seen.get(key)
            if known is not None and known[0] == etag and etag:
                records.extend(known[1])
                continue
            found = parse_records(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            if seen is not None:
                seen[key] = (etag, found)
            records.extend(found)
    return records


def _failed_node(run: RemoteRun, described: Any) -> TaskFailedError | None:
    if described["status"] == "SUCCEEDED" or described["status"] not in _TERMINAL:
        return None
    failed = FailedExecution(
        run_id=run.run_id, arn=run.arn, spec=run.spec, s3=run.s3, sfn=run.sfn, bucket=run.bucket
    )
    error = failure(failed, described["status"], described.get("error"), described.get("cause"))
    return error if isinstance(error, TaskFailedError) and error.node else None


_HEAD: Final = re.compile(r"^execution \S+ [A-Z_]+: ")


def _said(error: TaskFailedError) -> str:
    """The failure's message without the client's ``execution <id> <STATUS>:`` head: the words the
    runner (and a local run) record."""
    return _HEAD.sub("", str(error), count=1)


def _cut_off(
    record: ir.NodeRecord, named: TaskFailedError | None, status: str, ended: float | None
) -> ir.NodeRecord:
    if named is not None and named.node == record.node:
        error, attempts = _said(named), named.attempt or record.attempts
    else:
        error, attempts = f"stopped when the execution ended {status}", record.attempts
    update = {"status": ir.NodeStatus.FAILED, "error": error, "attempts": attempts, "finished": ended}
    return record.model_copy(update=update)


def _complete(
    run: RemoteRun,
    nodes: dict[str, ir.NodeRecord],
    named: TaskFailedError | None,
    ended: float | None,
    *,
    terminal: bool,
) -> None:
    """Add a record for each node of the spec the runner wrote none for (module docstring)."""
    done = S3OutputStore(run.s3, run.bucket, run.spec.name, run.run_id).completed_nodes()
    for node in run.spec.all_nodes():
        if node.id in nodes:
            continue
        if node is run.spec.on_failure and node.id not in done:
            continue  # the failure node runs only once the run failed; its runner records it when it does
        if named is not None and named.node == node.id:
            fields: dict[str, Any] = {"error": _said(named), "attempts": named.attempt, "finished": ended}
            nodes[node.id] = ir.NodeRecord(
                run_id=run.run_id, node=node.id, status=ir.NodeStatus.FAILED, **fields
            )
        elif node.id in done:
            nodes[node.id] = ir.NodeRecord(run_id=run.run_id, node=node.id, status=ir.NodeStatus.SUCCEEDED)
        elif terminal:
            nodes[node.id] = ir.NodeRecord(run_id=run.run_id, node=node.id, status=ir.NodeStatus.SKIPPED)


def remote_node_records(run: RemoteRun, *, seen: RecordsSeen | None = None) -> list[ir.NodeRecord]:
    """Run ``run``'s node and map item records: nodes in the order they started (never-started ones
    last, in spec order), each map node followed by its items by index (module docstring).
    ``seen`` as :func:`stored_records`'."""
    described = run.sfn.describe_execution(executionArn=run.arn)
    status = described["status"]
    ended = described.get("stopDate")
    ended_at = None if ended is None else ended.timestamp()
    terminal = status in _TERMINAL
    named = _failed_node(run, described)
    nodes: dict[str, ir.NodeRecord] = {}
    items: dict[str, dict[int, ir.NodeRecord]] = {}
    for record in stored_records(run.s3, run.bucket, run.spec.name, run.run_id, seen):
        if record.item is None:
            nodes[record.node] = record
        else:
            items.setdefault(record.node, {})[record.item] = record
    if terminal:
        for name, record in nodes.items():
            # A timed-out attempt's runner may have recorded its abandonment: the timeout is the news.
            timed_out = isinstance(named, TaskTimeoutError) and named.node == name
            if record.status == ir.NodeStatus.RUNNING or timed_out:
                nodes[name] = _cut_off(record, named, status, ended_at)
    _complete(run, nodes, named, ended_at if terminal else None, terminal=terminal)
    order = {node.id: index for index, node in enumerate(run.spec.all_nodes())}
    ranked = sorted(
        nodes.values(),
        key=lambda r: (_NEVER if r.started is None else r.started, order.get(r.node, len(order)), r.node),
    )
    records: list[ir.NodeRecord] = []
    for record in ranked:
        records.append(record)
        records.extend(item for _, item in sorted(items.pop(record.node, {}).items()))
    for rest in items.values():  # items whose node's own record is not in yet
        records.extend(item for _, item in sorted(rest.items()))
    return records
