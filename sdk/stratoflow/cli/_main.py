"""``stratoflow`` command line: a thin layer over library calls (nothing imports it)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

from stratoflow import ir
from stratoflow.errors import (
    ConfigError,
    DefinitionError,
    ExecutionError,
    InputError,
    SdkError,
    TaskFailedError,
)
from stratoflow.values import Directory, File

__all__ = ["main"]

EXIT_FAILED_RUN = 1
EXIT_BAD_INPUT = 2


def _jsonable(value: Any) -> Any:
    if isinstance(value, File | Directory):
        return value.download()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return value


def _outputs_json(spec: ir.WorkflowSpec, outputs: dict[str, Any]) -> Any:
    return {v.name: _jsonable(outputs[v.name]) for v in spec.outputs}


def _cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    from stratoflow.cli._args import parse_inputs  # noqa: PLC0415 - keep `--help` fast
    from stratoflow.define import load_workflow  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    spec = lower(load_workflow(args.target, args.workflow))
    inputs = parse_inputs(spec, args.inputs, extra)
    if args.mode == "local":
        from stratoflow.backends.local import RunOptions, run_recorded  # noqa: PLC0415

        options = RunOptions(
            max_workers=args.workers, use_cache=not args.no_cache, progress=None if not args.json else False
        )
        outputs = run_recorded(spec, inputs, options, display=lambda outs: _outputs_json(spec, outs)).outputs
    elif args.mode == "sandbox":
        from stratoflow.cli._sandbox import run_sandbox  # noqa: PLC0415

        outputs = run_sandbox(spec, inputs)
    else:
        from stratoflow.client import Client  # noqa: PLC0415 - boto3 only for remote runs

        execution = Client.from_stack(args.stack).submit(spec, inputs)
        print(f"started {execution.run_id} ({execution.arn})", file=sys.stderr)
        outputs = execution.wait(on_status=lambda status: print(f"  {status}", file=sys.stderr)).outputs()
    rendered = _outputs_json(spec, outputs)
    if args.json:
        print(json.dumps(rendered, sort_keys=True))
    else:
        print(f"workflow '{spec.name}' succeeded")
        for name, value in rendered.items():
            print(f"  {name} = {json.dumps(value)}")
    return 0


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

    store = SqliteCacheStore(default_home() / "cache.sqlite")
    if args.action == "clear":
        print(f"removed {store.clear(args.task)} cache entries")
        return 0
    for key, entry in store.entries():
        print(f"{key[:16]}  {entry.task}  version={entry.version}  outputs={','.join(entry.outputs) or '-'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratoflow", description="Typed Python workflows on AWS Step Functions."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a workflow (locally by default)")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--local", dest="mode", action="store_const", const="local", help="run here (default)")
    mode.add_argument(
        "--sandbox", dest="mode", action="store_const", const="sandbox", help="run in emulated AWS"
    )
    mode.add_argument(
        "--remote", dest="mode", action="store_const", const="remote", help="run on the deployed stack"
    )
    run.set_defaults(mode="local")
    run.add_argument("target", metavar="FILE_OR_MODULE")
    run.add_argument("workflow", metavar="WORKFLOW")
    run.add_argument("--inputs", help="inputs as a JSON object (or a .json file)")
    run.add_argument("--json", action="store_true", help="print only the outputs, as JSON")
    run.add_argument("--workers", type=int, default=None, help="parallel tasks (local runs)")
    run.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    run.add_argument("--stack", default="Stratoflow", help="with --remote: the deployed stack's name")
    graph = commands.add_parser("graph", help="print the workflow's DAG as Mermaid")
    graph.add_argument("target", metavar="FILE_OR_MODULE")
    graph.add_argument("workflow", metavar="WORKFLOW")
    compile_ = commands.add_parser("compile", help="print the Amazon States Language definition")
    compile_.add_argument("target", metavar="FILE_OR_MODULE")
    compile_.add_argument("workflow", metavar="WORKFLOW")
    compile_.add_argument("-o", "--output", help="write the ASL to this file")
    compile_.add_argument(
        "--explain", action="store_true", help="say where synchronisation points were added"
    )
    executions = commands.add_parser("executions", help="list recent runs or show one")
    executions.add_argument("action", choices=["ls", "show"])
    executions.add_argument(
        "run_id", nargs="?", help="with show: the run id (a unique prefix is enough locally)"
    )
    executions.add_argument("--remote", action="store_true", help="the deployed stack's executions")
    executions.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")
    executions.add_argument("--limit", type=int, default=20, help="with ls: how many")
    cache = commands.add_parser("cache", help="list or clear the local cache")
    cache.add_argument("action", choices=["ls", "clear"])
    cache.add_argument("--task", help="with clear: only this task's entries")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stratoflow`` command."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "run":
            return _cmd_run(args, extra)
        if args.command == "graph":
            return _cmd_graph(args)
        if args.command == "compile":
            return _cmd_compile(args)
        if args.command == "executions":
            from stratoflow.cli._executions import cmd_executions  # noqa: PLC0415

            return cmd_executions(args)
        return _cmd_cache(args)
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
