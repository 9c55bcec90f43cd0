"""``stratoflow`` command line: a thin layer over library calls (nothing imports it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stratoflow.errors import (
    ConfigError,
    DefinitionError,
    ExecutionError,
    InputError,
    SdkError,
    TaskFailedError,
)

__all__ = ["main"]

EXIT_FAILED_RUN = 1
EXIT_BAD_INPUT = 2

# botocore's "you have not set AWS up" errors, by class name (botocore is only imported by
# --remote): what is missing, in one line, instead of a traceback.
_AWS_SETUP_ERRORS = {
    "NoRegionError": "no AWS region is configured (set AWS_DEFAULT_REGION, or a region in ~/.aws/config)",
    "NoCredentialsError": (
        "no AWS credentials found (run `aws configure`, or set AWS_PROFILE, "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    ),
}


def _aws_setup_error(exc: Exception) -> str | None:
    """The one-line message for a missing AWS region/credentials/profile, or None if it is not that."""
    if not type(exc).__module__.startswith("botocore"):
        return None
    name = type(exc).__name__
    if name in _AWS_SETUP_ERRORS:
        return _AWS_SETUP_ERRORS[name]
    if name in ("ProfileNotFound", "PartialCredentialsError"):
        return str(exc)
    return None


def _cmd_graph(args: argparse.Namespace) -> int:
    from stratoflow.backends.graph import to_mermaid  # noqa: PLC0415
    from stratoflow.define import load_workflow  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    print(to_mermaid(lower(load_workflow(args.target, args.workflow))), end="")
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from stratoflow.backends import asl  # noqa: PLC0415
    from stratoflow.define import load_workflow  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    compiled = asl.compile_workflow(lower(load_workflow(args.target, args.workflow)))
    text = compiled.definition_json()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        print(text, end="")
    if args.explain:
        for note in compiled.sync_points or ("no synchronisation points added: the DAG is series-parallel",):
            print(f"note: {note}", file=sys.stderr)
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from stratoflow.cache import SqliteCacheStore, default_home  # noqa: PLC0415

    if args.sandbox:
        return _cmd_sandbox_cache(args)
    store = SqliteCacheStore(default_home() / "cache.sqlite")
    if args.action == "clear":
        print(f"removed {store.clear(args.task)} cache entries")
        return 0
    for key, entry in store.entries():
        print(f"{key[:16]}  {entry.task}  version={entry.version}  outputs={','.join(entry.outputs) or '-'}")
    return 0


def _cmd_sandbox_cache(args: argparse.Namespace) -> int:
    # The saved folder is plain JSON and files: listing or clearing it never imports moto.
    from stratoflow.cli._sandbox import sandbox_store_root  # noqa: PLC0415
    from stratoflow.cli._sandbox_store import SandboxStore  # noqa: PLC0415

    store = SandboxStore(sandbox_store_root())
    if args.action == "clear":
        print(f"removed {store.clear(args.task)} sandbox cache entries")
        return 0
    for item in store.entries():
        fields = {name: value.get("S", value.get("N", "")) for name, value in item.items()}
        print(f"{fields.get('pk', '')[:16]}  {fields.get('task', '')}  version={fields.get('version', '')}")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from stratoflow.cache import default_home  # noqa: PLC0415
    from stratoflow.cli import _sandbox_client as client  # noqa: PLC0415
    from stratoflow.cli import _sandbox_server as server  # noqa: PLC0415
    from stratoflow.cli import _sandbox_wire as wire  # noqa: PLC0415

    home = default_home()
    if args.action == "serve":
        server.serve(home, idle_seconds=args.idle_minutes * 60, code=wire.fingerprint())
        return 0
    if args.action == "start":
        started = client.start(home, idle_minutes=args.idle_minutes)
        print(
            f"sandbox server started (pid {started['pid']}): `stratoflow run --sandbox` runs in it "
            f"until `stratoflow sandbox stop` or {args.idle_minutes:g} idle minutes"
        )
        return 0
    if args.action == "stop":
        print("sandbox server stopped" if client.stop(home) else "no sandbox server was running")
        return 0
    reply = client.status(home)
    if reply is None:
        print("no sandbox server is running (start one: stratoflow sandbox start)")
    elif reply.get("code") != wire.fingerprint():
        print(
            f"sandbox server (pid {reply['pid']}) has other code or settings: restart it (stratoflow sandbox start)"
        )
    else:
        print(f"sandbox server running (pid {reply['pid']})")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    # Sub-command modules import on use, so `stratoflow graph` never pays for the runner's.
    if args.command == "run":
        from stratoflow.cli._run import cmd_run  # noqa: PLC0415

        return cmd_run(args)
    if args.command == "executions":
        from stratoflow.cli._executions import cmd_executions  # noqa: PLC0415

        return cmd_executions(args)
    if args.command == "logs":
        from stratoflow.cli._executions import cmd_logs  # noqa: PLC0415

        return cmd_logs(args)
    if args.command in ("signal", "approve"):
        from stratoflow.cli._signals import cmd_signal  # noqa: PLC0415

        return cmd_signal(args)
    if args.command == "recover":
        from stratoflow.cli._recover import cmd_recover  # noqa: PLC0415

        return cmd_recover(args)
    if args.command == "images":
        from stratoflow.cli._images import cmd_images  # noqa: PLC0415

        return cmd_images(args)
    if args.command == "ui":
        from stratoflow.cli._ui import cmd_ui  # noqa: PLC0415

        return cmd_ui(args)
    if args.command == "sandbox":
        return _cmd_sandbox(args)
    return {"graph": _cmd_graph, "compile": _cmd_compile}.get(args.command, _cmd_cache)(args)


def _add_run_history_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``executions``, ``logs`` and ``cache``: what past runs left."""
    executions = commands.add_parser("executions", allow_abbrev=False, help="list recent runs or show one")
    executions.add_argument("action", choices=["ls", "show"])
    executions.add_argument(
        "run_id", nargs="?", help="with show: the run id (a unique prefix is enough locally)"
    )
    executions.add_argument("--remote", action="store_true", help="the deployed stack's executions")
    executions.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")
    executions.add_argument(
        "--stage", help="with --remote: the stage's stack (cdk deploy -c stratoflow:stage=)"
    )
    executions.add_argument("--limit", type=int, default=20, help="with ls: how many")
    executions.add_argument("--json", action="store_true", help="with show: the run and its nodes as JSON")
    executions.add_argument("--items", action="store_true", help="with show: every map item's row too")
    logs = commands.add_parser("logs", allow_abbrev=False, help="print a node's log")
    logs.add_argument("run_id", metavar="RUN", help="the run id (a unique prefix is enough)")
    logs.add_argument("node", metavar="NODE", help="the node, as executions show names it")
    logs.add_argument("--item", type=int, default=None, help="a map node's item (default: all items)")
    logs.add_argument("--remote", action="store_true", help="a deployed stack's run (CloudWatch)")
    logs.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")
    cache = commands.add_parser("cache", allow_abbrev=False, help="list or clear the local cache")
    cache.add_argument("action", choices=["ls", "clear"])
    cache.add_argument("--task", help="with clear: only this task's entries")
    cache.add_argument("--sandbox", action="store_true", help="the sandbox's cache (run --sandbox)")
    sandbox = commands.add_parser(
        "sandbox",
        allow_abbrev=False,
        help="keep the emulated AWS warm for `run --sandbox` (start|stop|status)",
    )
    sandbox.add_argument("action", choices=["start", "stop", "status", "serve"])
    sandbox.add_argument(
        "--idle-minutes", type=float, default=30.0, help="with start: stop after this long without a run"
    )


def _parser() -> argparse.ArgumentParser:
    # No abbreviations anywhere: a prefix match would take a workflow input such as `--n 3`
    # for `--no-cache` and silently run with the wrong value.
    parser = argparse.ArgumentParser(
        prog="stratoflow", description="Typed Python workflows on AWS Step Functions.", allow_abbrev=False
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run a workflow (locally by default)",
        usage="stratoflow run [OPTIONS] FILE_OR_MODULE WORKFLOW [--INPUT VALUE ...]",
        description="Options come before FILE_OR_MODULE; everything after WORKFLOW is a workflow input.",
        allow_abbrev=False,
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--local", dest="mode", action="store_const", const="local", help="run here (default)")
    mode.add_argument(
        "--sandbox", dest="mode", action="store_const", const="sandbox", help="run in emulated AWS"
    )
    mode.add_argument(
        "--remote", dest="mode", action="store_const", const="remote", help="run on the deployed stack"
    )
    run.set_defaults(mode="local")
    run.add_argument("--inputs", help="inputs as a JSON object, or @FILE.json")
    run.add_argument("--json", action="store_true", help="print only the outputs, as JSON")
    run.add_argument("--workers", type=int, default=None, help="parallel tasks (local runs)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    run.add_argument(
        "--overwrite-cache",
        action="store_true",
        help="run cached tasks again and replace their cache entries",
    )
    run.add_argument("--stack", default="Stratoflow", help="with --remote: the deployed stack's name")
    run.add_argument("--stage", help="with --remote: the stage's stack (cdk deploy -c stratoflow:stage=)")
    run.add_argument(
        "--verbose", action="store_true", help="with --sandbox: show the emulator's and the runner's logs"
    )
    run.add_argument("target", metavar="FILE_OR_MODULE")
    # REMAINDER: option parsing stops at the file, so `--json 1` after it is an input.
    run.add_argument("rest", nargs=argparse.REMAINDER, metavar="WORKFLOW [--INPUT VALUE ...]")
    graph = commands.add_parser("graph", allow_abbrev=False, help="print the workflow's DAG as Mermaid")
    graph.add_argument("target", metavar="FILE_OR_MODULE")
    graph.add_argument("workflow", metavar="WORKFLOW")
    compile_ = commands.add_parser(
        "compile", allow_abbrev=False, help="print the Amazon States Language definition"
    )
    compile_.add_argument("target", metavar="FILE_OR_MODULE")
    compile_.add_argument("workflow", metavar="WORKFLOW")
    compile_.add_argument("-o", "--output", help="write the ASL to this file")
    compile_.add_argument(
        "--explain", action="store_true", help="say where synchronisation points were added"
    )
    _add_run_history_parsers(commands)
    from stratoflow.cli._images import add_images_parser  # noqa: PLC0415 - argparse only

    add_images_parser(commands)
    from stratoflow.cli._signals import add_signal_parsers  # noqa: PLC0415 - argparse only

    add_signal_parsers(commands)
    from stratoflow.cli._recover import add_recover_parser  # noqa: PLC0415 - argparse only

    add_recover_parser(commands)
    from stratoflow.cli._ui import add_ui_parser  # noqa: PLC0415 - argparse only

    add_ui_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stratoflow`` command."""
    args = _parser().parse_args(argv)
    if args.command == "run" and args.mode == "sandbox":
        from stratoflow.cli._sandbox_client import delegate  # noqa: PLC0415

        served = delegate(sys.argv[1:] if argv is None else argv)
        if served is not None:  # a warm sandbox server ran it (stratoflow sandbox start)
            return served
    try:
        return _dispatch(args)
    except TaskFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if exc.traceback_text:
            print(exc.traceback_text, file=sys.stderr, end="")
        return EXIT_FAILED_RUN
    except ExecutionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED_RUN
    except (DefinitionError, InputError, ConfigError) as exc:
        print(f"error: {exc}" if not isinstance(exc, DefinitionError) else str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except SdkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        missing = _aws_setup_error(exc)
        if missing is None:
            raise
        print(f"error: --remote: {missing}", file=sys.stderr)
        return EXIT_BAD_INPUT
