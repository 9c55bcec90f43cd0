"""A node's log, read from where its record says it is: what ``stratoflow logs`` and the web UI print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.backends.local._node_logs import read_log_file
from stratoflow.errors import ConfigError

CloudWatchLogsClient = Any
"""A boto3 ``logs`` client (the mypy-boto3 stubs for it are not a dependency)."""

__all__ = ["find_record", "read_node_log"]


def read_node_log(record: ir.NodeRecord, *, logs_client: CloudWatchLogsClient | None = None) -> str:
    """The log text of one node (or map item) record; ``""`` when it wrote nothing.

    A remote record's lines are read from CloudWatch through ``logs_client``: its stream, between
    the record's start and end (a Lambda stream holds every invocation its environment served).

    Example:
        >>> read_node_log(history.nodes(run_id)[0])  # doctest: +SKIP
        'loading 3 rows\\n'
    """
    logs = record.logs
    if logs is None:
        return ""
    if logs.kind == "file" and logs.path is not None:
        return read_log_file(Path(logs.path))
    if logs.kind == "cloudwatch" and logs.group is not None:
        if logs_client is None:
            raise ConfigError(
                f"node '{record.node}' of run {record.run_id} logs to CloudWatch ({logs.group}): "
                "read it with --remote"
            )
        from stratoflow.aws._logs import read_cloudwatch  # noqa: PLC0415 - loads botocore: remote records only

        return read_cloudwatch(logs_client, record, logs.group, logs.stream)
    return ""


def find_record(records: list[ir.NodeRecord], node: str, item: int | None) -> ir.NodeRecord:
    """The record of ``node`` (map item ``item``) among a run's ``records``; a ConfigError naming
    the run's nodes when there is none."""
    for record in records:
        if record.node == node and record.item == item:
            return record
    names = sorted({r.node for r in records})
    what = f"node '{node}'" if item is None else f"item {item} of node '{node}'"
    run = records[0].run_id if records else "the run"
    raise ConfigError(f"no {what} in run {run} (its nodes: {', '.join(names) or 'none recorded'})")
