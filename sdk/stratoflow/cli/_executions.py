"""``stratoflow executions ls | show``: local runs from the run history, remote ones from Step Functions."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from stratoflow.errors import ConfigError

__all__ = ["cmd_executions"]


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
    found = history.get(args.run_id)
    if found is None:
        raise ConfigError(f"no single local run matches {args.run_id!r} (see: stratoflow executions ls)")
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
