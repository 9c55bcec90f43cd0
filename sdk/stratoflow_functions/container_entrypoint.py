"""The Fargate container entrypoint: run the node its environment names (``protocol.container_event``).

A non-zero exit makes ``ecs:runTask.sync`` fail the state with ``States.TaskFailed``.

The container's root filesystem is read-only; its one writable path is the scratch volume,
named by ``TMPDIR`` in the task and job definitions. Every temp file of the run (downloaded
inputs, staged outputs) goes there, and a ``TMPDIR`` that is not a writable directory is a
configuration error (exit 2) before anything runs, rather than ``tempfile`` quietly falling back
to another directory.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import boto3  # type: ignore[import-untyped]

from stratoflow.define import EnvironmentSecretStore
from stratoflow.errors import SdkError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.runtime.aws import AwsRunnerEnv, RunnerSettings, container_where, run_node_event

_SCRATCHES: list[str] = []  # the emulator runs several containers as threads of one process
_SCRATCH_LOCK = threading.Lock()
_NO_SCRATCH: list[str | None] = []


@contextmanager
def temp_files_under(scratch: str | None) -> Iterator[None]:
    """``tempfile``'s directory is ``scratch`` while the node runs (restored after: the emulator
    runs this entrypoint in-process). Containers emulated at once as threads end in any order, so the
    directory is always the newest scratch still in use, or the original one: never a removed one."""
    if not scratch:
        yield
        return
    with _SCRATCH_LOCK:
        if not _SCRATCHES:
            _NO_SCRATCH[:] = [tempfile.tempdir]
        _SCRATCHES.append(scratch)
        tempfile.tempdir = scratch
    try:
        yield
    finally:
        with _SCRATCH_LOCK:
            _SCRATCHES.remove(scratch)
            tempfile.tempdir = _SCRATCHES[-1] if _SCRATCHES else _NO_SCRATCH[0]


def run(environ: Mapping[str, str], *, log: TextIO | None = None) -> int:
    """Run one node with settings from ``environ``; returns the process exit code.

    ``log`` is where the container's own lines go (default: stderr, its log stream on AWS).
    """
    log = sys.stderr if log is None else log
    scratch = environ.get("TMPDIR")
    if scratch and not (Path(scratch).is_dir() and os.access(scratch, os.W_OK | os.X_OK)):
        message = f"TMPDIR {scratch!r} is not a writable directory: is the scratch volume mounted?"
        print(json.dumps({"error": "ConfigError", "message": message}), file=log)
        return 2
    with temp_files_under(scratch):
        return _run(environ, log)


def _run(environ: Mapping[str, str], log: TextIO) -> int:
    try:
        event = protocol.container_event(environ)
        settings = RunnerSettings.from_env(dict(environ))
    except KeyError as exc:
        print(json.dumps({"error": "ConfigError", "message": f"missing {exc.args[0]}"}), file=log)
        return 2
    except SdkError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), file=log)
        return 2
    # The task definition's secrets are in this environment (ECS put them there): never fetched here.
    env = AwsRunnerEnv(
        s3=boto3.client("s3"),
        dynamodb=boto3.client("dynamodb"),
        settings=settings,
        where=container_where(environ),
        secrets=EnvironmentSecretStore(environ),
    )
    # ECS and Batch report a failed container by its exit code: the user's error is recorded
    # where the client reads it (a node's own run only; a map batch's items record theirs).
    # The record names its attempt, so the client never reports an earlier attempt's error.
    workflow = protocol.spec_workflow(event.spec)  # None: a bad key, refused by run_node_event
    error_key = (
        protocol.container_error_key(workflow, event.run, event.node)
        if event.mode is protocol.Mode.RUN and workflow is not None
        else None
    )
    try:
        result = run_node_event(event, env)
    except TaskFailedError as exc:
        cause = protocol.FailureCause.of(exc)
        print(cause.model_copy(update={"traceback": None}).to_json(), file=log)
        if exc.traceback_text:
            print(exc.traceback_text, file=log)
        if error_key is not None:
            env.s3.put_object(
                Bucket=settings.bucket,
                Key=error_key,
                Body=cause.to_json().encode(),
                ContentType="application/json",
            )
        return 1
    print(json.dumps(result.model_dump(mode="json")), file=log)
    return 0


def _stop(signum: int, frame: object) -> None:
    # ECS sends SIGTERM before it stops a task (two minutes ahead for a Spot reclaim). As
    # SystemExit, it unwinds through the runner, which stores a map batch's finished items.
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
