"""``stratoflow signal RUN NAME VALUE`` and ``stratoflow approve RUN NAME [--reject]``.

Locally the signal is written into the run's store under ``$STRATOFLOW_HOME``, where the
waiting run (in another shell) picks it up; with ``--remote`` it goes to the deployed stack
(the signal to S3, then the gate's task token answered).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_signal_parsers", "cmd_signal"]


def add_signal_parsers(commands: Any) -> None:
    """The ``signal`` and ``approve`` sub-commands."""
    signal = commands.add_parser(
        "signal", allow_abbrev=False, help="send a value to a run waiting in wait_for_input(NAME, ...)"
    )
    approve = commands.add_parser(
        "approve", allow_abbrev=False, help="approve (or --reject) a run waiting in approve(..., NAME, ...)"
    )
    for parser in (signal, approve):
        parser.add_argument("run_id", metavar="RUN")
        parser.add_argument("name", metavar="NAME")
    signal.add_argument("value", metavar="VALUE", help="the value, as on the command line of `run`")
    approve.add_argument("--reject", action="store_true", help="reject: the gate fails the run")
    for parser in (signal, approve):
        parser.add_argument("--remote", action="store_true", help="a run on the deployed stack")
        parser.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")
        parser.add_argument(
            "--stage", help="with --remote: the stage's stack (cdk deploy -c stratoflow:stage=)"
        )


def cmd_signal(args: argparse.Namespace) -> int:
    """Deliver the signal; a run that does not wait for it is an InputError (exit 2)."""
    from stratoflow.cli._args import value_from_text  # noqa: PLC0415

    approved = not getattr(args, "reject", False)
    if args.remote:
        from stratoflow.client import Client  # noqa: PLC0415
        from stratoflow.client._signals import remote_gate  # noqa: PLC0415

        client = Client.from_stack(args.stack, stage=getattr(args, "stage", None))
        if args.command == "approve":
            client.approve(args.run_id, args.name, reject=not approved)
        else:
            gate, _ = remote_gate(client.s3, client.bucket, args.run_id, args.name)
            client.signal(args.run_id, args.name, _value(gate.type, args.value, args.name, value_from_text))
        return 0
    from stratoflow.cache import default_home  # noqa: PLC0415
    from stratoflow.runtime import send_local_signal, signal_body, waiting_gate  # noqa: PLC0415
    from stratoflow.values import LocalBlobStore  # noqa: PLC0415

    home = default_home()
    workflow, run_id = _local_run(home, args.run_id, args.name)
    gate = waiting_gate(home, workflow, run_id, args.name)
    value = None if args.command == "approve" else _value(gate.type, args.value, args.name, value_from_text)
    body = signal_body(gate, value, LocalBlobStore(home), approved=approved)
    send_local_signal(home, workflow, run_id, args.name, body)
    return 0


def _local_run(home: Any, prefix: str, name: str) -> tuple[str, str]:
    """The workflow and id of the local run waiting for signal ``name`` whose id starts with ``prefix``
    (as `executions ls` shows); no such run: the prefix itself (``waiting_gate`` says so)."""
    from stratoflow.errors import InputError  # noqa: PLC0415
    from stratoflow.ir import protocol  # noqa: PLC0415

    runs = home / protocol.RUNS_PREFIX
    found = sorted(
        (run.name, workflow.name)
        for workflow in (runs.iterdir() if runs.is_dir() else ())
        for run in (workflow.iterdir() if workflow.is_dir() else ())
        if run.name.startswith(prefix)
        and (home / protocol.gate_token_key(workflow.name, run.name, name)).is_file()
    )
    exact = [match for match in found if match[0] == prefix]
    if len(found) > 1 and len(exact) != 1:
        names = [run for run, _ in found]
        raise InputError(f"run id prefix {prefix!r} matches {len(found)} runs waiting for '{name}': {names}")
    if not found:
        return "", prefix
    run, workflow = (exact or found)[0]
    return workflow, run


def _value(type_: Any, text: str, name: str, parse: Any) -> Any:
    from stratoflow.errors import InputError  # noqa: PLC0415

    if type_ is None:
        raise InputError(f"signal '{name}' takes no value (it is an approval: use `stratoflow approve`)")
    return parse(text, type_, name)
