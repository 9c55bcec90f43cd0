"""``stratoflow run [OPTIONS] FILE_OR_MODULE WORKFLOW [--INPUT VALUE ...]``."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from stratoflow import ir
from stratoflow.errors import ConfigError, InputError
from stratoflow.values import Directory, File, StructuredDataset, frame_kind

__all__ = ["cmd_run"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, File | Directory):
        return value.download()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {(k.value if isinstance(k, enum.Enum) else k): _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()  # what --<input> takes for a timedelta
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact, as the codec stores it
    if isinstance(value, StructuredDataset) or frame_kind(type(value)) is not None:
        value = value.open(_pandas_frame_type()).all() if isinstance(value, StructuredDataset) else value
        # pandas' "split" JSON (index, columns, data): complete, and what `| jq` reads.
        frame = value.to_pandas() if hasattr(value, "to_pandas") else value
        return json.loads(frame.to_json(orient="split", date_format="iso"))
    return value


def _pandas_frame_type() -> type:
    """pandas.DataFrame (imported only when a StructuredDataset is printed)."""
    import pandas as pd  # noqa: PLC0415 - the dataframe extra, only when used

    frame: type = pd.DataFrame
    return frame


def _outputs_json(spec: ir.WorkflowSpec, outputs: dict[str, Any]) -> Any:
    return {v.name: _jsonable(outputs[v.name]) for v in spec.outputs}


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """While tasks run, their output (``print``, and subprocesses writing to fd 1) goes to stderr.

    With ``--json`` stdout must hold the outputs only, so that ``| jq`` works.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (an embedding host): redirecting sys.stdout is all there is
        saved = None
    if saved is not None:
        os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _split(args: argparse.Namespace) -> tuple[str, list[str]]:
    if not args.rest:
        raise ConfigError("run needs a WORKFLOW after FILE_OR_MODULE (stratoflow run FILE WORKFLOW ...)")
    workflow, *pairs = args.rest
    if workflow.startswith("-"):
        raise ConfigError(
            f"{workflow} after FILE_OR_MODULE: stratoflow run's options go before it "
            "(stratoflow run [OPTIONS] FILE_OR_MODULE WORKFLOW [--INPUT VALUE ...])"
        )
    return workflow, pairs


def _execute(args: argparse.Namespace, spec: ir.WorkflowSpec, inputs: dict[str, Any]) -> dict[str, Any]:
    from stratoflow.cache import default_home  # noqa: PLC0415
    from stratoflow.values import materialise_files  # noqa: PLC0415

    if args.mode == "local":
        from stratoflow.backends.local import RunOptions, run_recorded  # noqa: PLC0415

        options = RunOptions(
            max_workers=args.workers,
            use_cache=not args.no_cache,
            overwrite_cache=args.overwrite_cache,
            progress=None if not args.json else False,
        )
        return run_recorded(spec, inputs, options, display=lambda outs: _outputs_json(spec, outs)).outputs
    if args.mode == "sandbox":
        from stratoflow.cli._sandbox import run_sandbox  # noqa: PLC0415

        return run_sandbox(
            spec,
            inputs,
            verbose=args.verbose,
            use_cache=not args.no_cache,
            overwrite_cache=args.overwrite_cache,
            progress=None if not args.json else False,
            display=lambda outs: _outputs_json(spec, outs),
        )
    from stratoflow.backends.local import start_progress  # noqa: PLC0415
    from stratoflow.cli._remote_progress import RecordsWatcher  # noqa: PLC0415
    from stratoflow.client import Client  # noqa: PLC0415 - boto3 only for remote runs

    client = Client.from_stack(args.stack, stage=getattr(args, "stage", None))
    execution = client.submit(spec, inputs, cache=not args.no_cache, overwrite_cache=args.overwrite_cache)
    print(f"started {execution.run_id} ({execution.arn})", file=sys.stderr)
    # Bars on a terminal (never with --json), from the node records the runner writes as it goes.
    progress = start_progress(spec, None if not args.json else False)
    with RecordsWatcher(client.s3, client.bucket, execution.run_id, spec, progress):
        execution.wait(on_status=lambda status: print(f"  {status}", file=sys.stderr))
    outputs = execution.outputs()
    materialise_files(outputs, default_home() / "outputs" / execution.run_id)  # keep names, off /tmp
    return outputs


def _print_inputs(spec: ir.WorkflowSpec, target: str) -> None:
    """``stratoflow run FILE WORKFLOW --help``: the workflow's inputs, as flags."""
    flags = " ".join(
        f"[--{v.name} {v.type.render()}]" if v.has_default else f"--{v.name} {v.type.render()}"
        for v in spec.inputs
    )
    print(f"usage: stratoflow run [OPTIONS] {target} {spec.name} {flags}".rstrip())
    print(f"\ninputs of workflow '{spec.name}':")
    for v in spec.inputs:
        default = f"default {json.dumps(v.default)}" if v.has_default else "required"
        print(f"  --{v.name} {v.type.render()}  ({default})")
    if not spec.inputs:
        print("  (none)")


def cmd_run(args: argparse.Namespace) -> int:
    """Load, lower, check the inputs, run; print the outputs (only them, as JSON, with ``--json``)."""
    from stratoflow.cli._args import parse_inputs  # noqa: PLC0415 - keep `--help` fast
    from stratoflow.define import LaunchPlan, load_target  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    if args.no_cache and args.overwrite_cache:  # before anything loads: nothing runs
        raise InputError(
            "--overwrite-cache and --no-cache do not go together: a run without a cache writes none"
        )
    workflow, pairs = _split(args)
    # WORKFLOW may name a launch plan: its workflow runs with the plan's inputs merged in.
    found = load_target(args.target, workflow)
    plan = found if isinstance(found, LaunchPlan) else None
    spec = lower(found.workflow if isinstance(found, LaunchPlan) else found)
    if pairs in (["--help"], ["-h"]) and "help" not in {v.name for v in spec.inputs}:
        _print_inputs(spec, args.target)
        return 0
    inputs = parse_inputs(spec, args.inputs, pairs)
    if plan is not None:
        inputs = plan.merged_inputs(inputs)
    with _stdout_to_stderr() if args.json else contextlib.nullcontext():
        outputs = _execute(args, spec, inputs)
        rendered = _outputs_json(spec, outputs)
    if args.json:
        print(json.dumps(rendered, sort_keys=True))
    else:
        print(f"workflow '{spec.name}' succeeded")
        for name, value in rendered.items():
            print(f"  {name} = {json.dumps(value)}")
    return 0
