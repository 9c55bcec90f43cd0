"""A node's log, read from where its record says it is: what ``stratoflow logs`` and the web UI print."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratoflow import ir
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
        path = Path(logs.path)
        # A file is made on a node's first line: a silent node (a silent map item) has none.
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    if logs.kind == "cloudwatch" and logs.group is not None:
        if logs_client is None:
            raise ConfigError(
                f"node '{record.node}' of run {record.run_id} logs to CloudWatch ({logs.group}): "
                "read it with --remote"
            )
        return _cloudwatch(logs_client, record, logs.group, logs.stream)
    return ""


def _window(record: ir.NodeRecord) -> dict[str, int]:
    # CloudWatch times are epoch milliseconds; a second's slack each side for clock and flush lag.
    window: dict[str, int] = {}
    if record.started is not None:
        window["startTime"] = int(record.started * 1000) - 1000
    if record.finished is not None:
        window["endTime"] = int(record.finished * 1000) + 1000
    return window


def _cloudwatch(client: CloudWatchLogsClient, record: ir.NodeRecord, group: str, stream: str | None) -> str:
    lines: list[str] = []
    window = _window(record)
    try:
        if stream is None:  # not known: the group's events in the record's window that name the run
            pages = client.get_paginator("filter_log_events").paginate(
                logGroupName=group, filterPattern=f'"{record.run_id}"', **window
            )
            for page in pages:
                lines.extend(event["message"] for event in page["events"])
        else:
            token: str | None = None
            while True:
                page = client.get_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    startFromHead=True,
                    **window,
                    **({"nextToken": token} if token else {}),
                )
                lines.extend(event["message"] for event in page["events"])
                if not page["events"] or page.get("nextForwardToken") in (None, token):
                    break
                token = page["nextForwardToken"]
    except client.exceptions.ResourceNotFoundException:
        return ""  # nothing logged yet (the group or stream is made on the first line)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


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
