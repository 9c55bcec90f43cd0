"""A node's CloudWatch log lines, read through an injected ``logs`` client (``stratoflow logs``, the UI)."""

from __future__ import annotations

from typing import Any

from stratoflow import ir

__all__ = ["read_cloudwatch"]

CloudWatchLogsClient = Any
"""A boto3 ``logs`` client (the mypy-boto3 stubs for it are not a dependency)."""


def _window(record: ir.NodeRecord) -> dict[str, int]:
    # CloudWatch times are epoch milliseconds; a second's slack each side for clock and flush lag.
    window: dict[str, int] = {}
    if record.started is not None:
        window["startTime"] = int(record.started * 1000) - 1000
    if record.finished is not None:
        window["endTime"] = int(record.finished * 1000) + 1000
    return window


def read_cloudwatch(
    client: CloudWatchLogsClient,
    record: ir.NodeRecord,
    group: str,
    stream: str | None,
    *,
    last_events: int | None = None,
) -> str:
    """The lines ``record``'s node logged to ``group`` (its ``stream`` when known), between the
    record's start and end: a Lambda stream holds every invocation its environment served.

    ``last_events``: only the newest that many events (one call; a page shows a log's end).
    Without a stream, the group's events in the window that name the run.
    """
    window = _window(record)
    try:
        if stream is None:
            pages = client.get_paginator("filter_log_events").paginate(
                logGroupName=group, filterPattern=f'"{record.run_id}"', **window
            )
            lines = [event["message"] for page in pages for event in page["events"]]
            lines = lines[-last_events:] if last_events else lines
        elif last_events:
            lines = [
                event["message"]
                for event in client.get_log_events(
                    logGroupName=group, logStreamName=stream, startFromHead=False, limit=last_events, **window
                )["events"]
            ]
        else:
            lines = _whole_stream(client, group, stream, window)
    except client.exceptions.ResourceNotFoundException:
        return ""  # nothing logged yet (the group or stream is made on the first line), or expired
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _whole_stream(client: CloudWatchLogsClient, group: str, stream: str, window: dict[str, int]) -> list[str]:
    lines: list[str] = []
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
            return lines
        token = page["nextForwardToken"]
