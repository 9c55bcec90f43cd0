"""``stratoflow executions ls | show`` and ``stratoflow logs``: local runs from the run history (with
their per-node records), remote ones from Step Functions."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from stratoflow.cli._node_logs import find_record, read_node_log
from stratoflow.cli._node_table import node_table
from stratoflow.errors import ConfigError

if TYPE_CHECKING:
    from stratoflow.backends.local import RunHistory, RunRecord

__all__ = ["cmd_executions", "cmd_logs"]


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _local(args: argparse.Namespace) -> int:
    from stratoflow.backends.local import RunHistory  # noqa: PLC0415
    from stratoflow.cache import default_home  # noqa: PLC0415

    history = RunHistory(default_home() / "runs.sqlite")
    if args.action == "ls":
        for record in history.list(args.limit):
            took = "-" if record.finished is None else f"{record.finished - record.started:.2f}s"
            where = "" if record.backend == "local" else f"  ({record.backend})"
            print(
                f"{record.run_id[:12]}  {record.workflow:<24} {record.status:<9} {_when(record.started)}  "
                f"{took}{where}"
            )
        return 0
    found = _found(history, args.run_id)
    records = history.nodes(found.run_id)
    if args.json:
        run = dataclasses.asdict(found)
        run["skipped"] = list(found.skipped)
        shown = {"run": run, "nodes": [record.model_dump(mode="json") for record in records]}
        print(json.dumps(shown, sort_keys=True, default=str))
        return 0
    print(f"run       {found.run_id}\nworkflow  {found.workflow} ({found.ref})\nstatus    {found.status}")
    if found.backend != "local":
        print(f"ran in    {found.backend} (emulated AWS)")
    print(f"started   {_when(found.started)}\nfinished  {_when(found.finished)}")
    if found.error:
        print(f"error     {found.error}")
    if found.outputs is not None:
        print(f"outputs   {json.dumps(found.outputs, sort_keys=True)}")
    if found.skipped:
        print(f"skipped   {', '.join(found.skipped)} (cases their conditionals did not take)")
    if records:
        print()
        print("\n".join(line.rstrip() for line in node_table(records, items=args.items)))
    return 0


def _found(history: RunHistory, run_id: str) -> RunRecord:
    found = history.get(run_id)
    if found is None:
        raise ConfigError(f"no single local run matches {run_id!r} (see: stratoflow executions ls)")
    return found


def cmd_logs(args: argparse.Namespace) -> int:
    """Print a node's log (a map node's: every item's that wrote one, each under a header)."""
    from stratoflow.backends.local import RunHistory  # noqa: PLC0415
    from stratoflow.cache import default_home  # noqa: PLC0415

    history = RunHistory(default_home() / "runs.sqlite")
    records = history.nodes(_found(history, args.run_id).run_id)
    record = find_record(records, args.node, args.item)
    items = [r for r in records if r.node == args.node and r.item is not None]
    if args.item is not None or not items:
        sys.stdout.write(read_node_log(record))
        return 0
    for item in items:
        text = read_node_log(item)
        if text:
            sys.stdout.write(f"== {item.node}[{item.item}] ==\n{text}")
    return 0


def _remote(args: argparse.Namespace) -> int:
    from stratoflow import ir  # noqa: PLC0415
    from stratoflow.client import Client, Execution  # noqa: PLC0415

    client = Client.from_stack(args.stack)
    if args.action == "ls":
        rows: list[dict[str, Any]] = []
        for workflow, arn in sorted(client.state_machines.items()):
            for execution in client.sfn.list_executions(stateMachineArn=arn, maxResults=args.limit)[
                "executions"
            ]:
                rows.append({"workflow": workflow, **execution})
        for row in sorted(rows, key=lambda r: r["startDate"], reverse=True)[: args.limit]:
            print(
                f"{row['name']}  {row['workflow']:<24} {row['status']:<9} {row['startDate']:%Y-%m-%d %H:%M:%S}"
            )
        return 0
    for workflow, machine_arn in client.state_machines.items():
        arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{args.run_id}"
        try:
            described = client.sfn.describe_execution(executionArn=arn)
        except client.sfn.exceptions.ExecutionDoesNotExist:
            continue
        print(f"run       {args.run_id}\nworkflow  {workflow}\nstatus    {described['status']}")
        if described.get("error"):
            print(f"error     {described['error']}: {described.get('cause', '')}")
        if described["status"] == "SUCCEEDED":
            # The deployed definition names the IR it was compiled from; outputs are read through it.
            definition = client.sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
            spec_key = ir.protocol.spec_key_in_comment(json.loads(definition).get("Comment", ""))
            if spec_key:
                body = client.s3.get_object(Bucket=client.bucket, Key=spec_key)["Body"].read()
                spec = ir.WorkflowSpec.model_validate_json(body)
                finished = Execution(client=client, spec=spec, run_id=args.run_id, arn=arn)
                print(f"outputs   {json.dumps(finished.outputs(), default=str, sort_keys=True)}")
                skipped = finished.skipped()
                if skipped:
                    print(f"skipped   {', '.join(skipped)} (cases their conditionals did not take)")
        return 0
    raise ConfigError(f"no execution named {args.run_id!r} in stack {args.stack!r}")


def cmd_executions(args: argparse.Namespace) -> int:
    """List recent runs, or show one (local by default; ``--remote`` for the deployed stack)."""
    if args.action == "show" and not args.run_id:
        raise ConfigError("executions show needs a run id")
    return _remote(args) if args.remote else _local(args)
