"""``stratoflow executions ls | show --remote`` and ``stratoflow logs --remote``: the deployed stack's
executions, with the per-node records ``Client.node_records`` reads (the same table as locally)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from stratoflow.cli._node_logs import CloudWatchLogsClient, find_record, read_node_log
from stratoflow.cli._node_table import node_table

if TYPE_CHECKING:
    from stratoflow.client import Client, Execution

__all__ = ["logs_remote", "show_remote"]


def _client(args: argparse.Namespace) -> Client:
    from stratoflow.client import Client  # noqa: PLC0415

    return Client.from_stack(args.stack, stage=getattr(args, "stage", None))


def _ls(client: Client, limit: int) -> int:
    rows: list[dict[str, Any]] = []
    for workflow, arn in sorted(client.state_machines.items()):
        for execution in client.sfn.list_executions(stateMachineArn=arn, maxResults=limit)["executions"]:
            rows.append({"workflow": workflow, **execution})
    for row in sorted(rows, key=lambda r: r["startDate"], reverse=True)[:limit]:
        print(f"{row['name']}  {row['workflow']:<24} {row['status']:<9} {row['startDate']:%Y-%m-%d %H:%M:%S}")
    return 0


def _epoch(described: Any, name: str) -> float | None:
    when = described.get(name)
    return None if when is None else float(when.timestamp())


def _run_fields(execution: Execution) -> dict[str, Any]:
    """The run's status, times, error and (of a finished run) outputs and skipped nodes."""
    described = execution.client.sfn.describe_execution(executionArn=execution.arn)
    run: dict[str, Any] = {
        "run_id": execution.run_id,
        "workflow": execution.spec.name,
        "ref": execution.spec.ref,
        "status": described["status"],
        "started": _epoch(described, "startDate"),
        "finished": _epoch(described, "stopDate"),
        "error": None,
        "outputs": None,
        "skipped": [],
        "backend": "remote",
        "arn": execution.arn,
    }
    if described.get("error"):
        run["error"] = f"{described['error']}: {described.get('cause', '')}"
    if described["status"] == "SUCCEEDED":
        run["outputs"] = json.loads(json.dumps(execution.outputs(), default=str))
        run["skipped"] = execution.skipped()
    return run


def show_remote(args: argparse.Namespace) -> int:
    """``executions ls|show --remote``."""
    client = _client(args)
    if args.action == "ls":
        return _ls(client, args.limit)
    execution = client.execution(args.run_id)
    run = _run_fields(execution)
    records = execution.node_records()
    if args.json:
        shown = {"run": run, "nodes": [record.model_dump(mode="json") for record in records]}
        print(json.dumps(shown, sort_keys=True, default=str))
        return 0
    print(f"run       {run['run_id']}\nworkflow  {run['workflow']}\nstatus    {run['status']}")
    if run["error"]:
        print(f"error     {run['error']}")
    if run["outputs"] is not None:
        print(f"outputs   {json.dumps(run['outputs'], sort_keys=True)}")
    if run["skipped"]:
        print(f"skipped   {', '.join(run['skipped'])} (cases their conditionals did not take)")
    if records:
        print()
        print("\n".join(line.rstrip() for line in node_table(records, items=args.items)))
    decks = [(r.node, r.deck) for r in records if r.deck]
    for node, deck in decks:
        print(f"deck      {node}: {deck}")
    return 0


def _logs_client() -> CloudWatchLogsClient:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 - only for remote runs

    return boto3.client("logs")


def logs_remote(args: argparse.Namespace, logs_client: CloudWatchLogsClient | None = None) -> int:
    """``logs RUN NODE --remote``: the node's (or every item's) CloudWatch lines."""
    records = _client(args).node_records(args.run_id)
    logs_client = logs_client or _logs_client()
    record = find_record(records, args.node, args.item)
    items = [r for r in records if r.node == args.node and r.item is not None]
    if args.item is not None or not items:
        sys.stdout.write(read_node_log(record, logs_client=logs_client))
        return 0
    for item in items:
        text = read_node_log(item, logs_client=logs_client)
        if text:
            sys.stdout.write(f"== {item.node}[{item.item}] ==\n{text}")
    return 0
