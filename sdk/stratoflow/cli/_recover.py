"""``stratoflow recover RUN``: a new run of a failed one, reusing every node and map item that succeeded.

Locally from the run history (``$STRATOFLOW_HOME``); with ``--remote`` on the deployed stack
(``Client.recover``). Prints the new run's outputs (``--json``: only them, as JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_recover_parser", "cmd_recover"]


def add_recover_parser(commands: Any) -> None:
    """The ``recover`` sub-command."""
    recover = commands.add_parser(
        "recover",
        allow_abbrev=False,
        help="rerun a failed run, reusing every node and map item that succeeded",
    )
    recover.add_argument("run_id", metavar="RUN", help="the failed run (locally a unique prefix is enough)")
    recover.add_argument("--remote", action="store_true", help="a run on the deployed stack")
    recover.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")
    recover.add_argument("--stage", help="with --remote: the stage's stack (cdk deploy -c stratoflow:stage=)")
    recover.add_argument("--json", action="store_true", help="print only the outputs, as JSON")


def _import_workflow(path: Path) -> None:
    """Import the workflow's file (when it is still where it ran from), so its tasks resolve here."""
    from stratoflow.define import load_workflows  # noqa: PLC0415

    if path.is_file():
        load_workflows(str(path))


def cmd_recover(args: argparse.Namespace) -> int:
    """Recover the run; exit 0 when the recovered run succeeds (a failure raises, as ``run`` does)."""
    if args.remote:
        from stratoflow.client import Client  # noqa: PLC0415

        execution = Client.from_stack(args.stack, stage=getattr(args, "stage", None)).recover(args.run_id)
        print(f"recovering {args.run_id} as {execution.run_id}", file=sys.stderr)
        outputs = execution.wait().outputs()
        run_id, reused = execution.run_id, ""
    else:
        from stratoflow.backends.local import RunOptions, recover_recorded  # noqa: PLC0415

        run = recover_recorded(args.run_id, RunOptions(), prepare=_import_workflow)
        outputs, run_id = run.outputs, run.run_id
        reused = f" (reused: {', '.join(sorted(run.recovered)) or 'no node'})"
    if args.json:
        print(json.dumps(outputs, default=str, sort_keys=True))
    else:
        print(f"run {run_id} succeeded{reused}")
        for name, value in outputs.items():
            print(f"{name} = {value!r}")
    return 0
