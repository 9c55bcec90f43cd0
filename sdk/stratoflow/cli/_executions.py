"""``stratoflow executions ls | show`` and ``stratoflow logs``: local runs from the run history (with
their per-node records); remote ones (``--remote``) in ``_remote_runs``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

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
        run = found._asdict()
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
    for node in records:
        if node.deck:
            print(f"deck      {node.node}: {node.deck}")
    return 0


def _found(history: RunHistory, run_id: str) -> RunRecord:
    found = history.get(run_id)
    if found is None:
        raise ConfigError(f"no single local run matches {run_id!r} (see: stratoflow executions ls)")
    return found


def cmd_logs(args: argparse.Namespace) -> int:
    """Print a node's log (a map node's: every item's that wrote one, each under a header)."""
    if getattr(args, "remote", False):
        from stratoflow.cli._remote_runs import logs_remote  # noqa: PLC0415

        return logs_remote(args)
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


def cmd_executions(args: argparse.Namespace) -> int:
    """List recent runs, or show one (local by default; ``--remote`` for the deployed stack)."""
    if args.action == "show" and not args.run_id:
        raise ConfigError("executions show needs a run id")
    if args.remote:
        from stratoflow.cli._remote_runs import show_remote  # noqa: PLC0415

        return show_remote(args)
    return _local(args)
