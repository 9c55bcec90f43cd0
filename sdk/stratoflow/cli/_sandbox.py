"""``stratoflow run --sandbox``: run the compiled state machine in an in-process emulated AWS.

It looks like a local run: the same progress bar, no emulator or Lambda-logger output
unless ``--verbose`` (their loggers are silenced and the in-process containers' own lines
kept), the user's error and traceback on a failure, a record in the run history
(``executions ls`` marks it sandbox), and a cache that outlives the process
(``$STRATOFLOW_HOME/sandbox/``, cleared by ``stratoflow cache clear --sandbox``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow.cache import default_home
from stratoflow.errors import SdkError
from stratoflow.values import materialise_files

if TYPE_CHECKING:
    from stratoflow.client import Execution
    from stratoflow.testing._sandbox import Sandbox

__all__ = ["QUIET_LOGGERS", "run_sandbox", "sandbox_store_root"]

QUIET_LOGGERS = ("moto", "botocore", "stratoflow-task-runner", "stratoflow-trigger-starter")
"""The emulator's and the runner Lambda's loggers (powertools JSON): silent unless ``--verbose``."""

_POLL_SECONDS = 0.1


def sandbox_store_root() -> Path:
    """Where the sandbox keeps its cache and blobs between runs."""
    return default_home() / "sandbox"


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _wait_with_progress(
    sandbox: Sandbox, execution: Execution, spec: ir.WorkflowSpec, show: bool | None
) -> None:
    """Wait for ``execution``, advancing the local run's progress bar as node outputs land."""
    from stratoflow.aws import S3OutputStore  # noqa: PLC0415
    from stratoflow.backends.local import start_progress  # noqa: PLC0415

    progress = start_progress(spec, show)
    stored = S3OutputStore(sandbox.aws.client("s3"), sandbox.bucket, spec.name, execution.run_id)
    nodes = {node.id for node in spec.nodes}
    finished = threading.Event()

    def advance() -> None:
        seen: set[str] = set()
        while not finished.wait(_POLL_SECONDS):
            for node in sorted((stored.completed_nodes() & nodes) - seen):
                seen.add(node)
                progress.node_done(node)

    watcher = threading.Thread(target=advance, name="stratoflow-sandbox-progress", daemon=True)
    watcher.start()
    try:
        execution.wait()
    finally:
        finished.set()
        watcher.join()
        progress.stop()


def run_sandbox(
    spec: ir.WorkflowSpec,
    inputs: Mapping[str, Any],
    *,
    verbose: bool = False,
    use_cache: bool = True,
    progress: bool | None = None,
    display: Callable[[dict[str, Any]], Any] = lambda outputs: outputs,
) -> dict[str, Any]:
    """Deploy ``spec`` into a fresh emulated stack, run it once, return its outputs.

    ``use_cache=False`` starts from an empty emulated cache and keeps nothing of this run's;
    ``progress`` as ``RunOptions.progress``; ``display`` renders the outputs for the history.
    """
    from stratoflow.backends.local import RunHistory, validate_inputs  # noqa: PLC0415
    from stratoflow.cli._sandbox_store import SandboxStore  # noqa: PLC0415
    from stratoflow.testing._sandbox import Sandbox  # noqa: PLC0415 - moto is only paid for on --sandbox

    validate_inputs(spec, inputs)  # rejected inputs are not runs: nothing is recorded
    store = SandboxStore(sandbox_store_root())
    history = RunHistory(default_home() / "runs.sqlite")
    run_id = uuid.uuid4().hex
    container_log = None if verbose else io.StringIO()
    # Quieted once the sandbox has started: importing the runner Lambda sets its logger's level.
    with _quiet(verbose), Sandbox(container_log=container_log) as sandbox, _quiet(verbose):
        if use_cache:
            store.restore(sandbox)
        history.start(run_id, spec, backend="sandbox")
        try:
            sandbox.deploy(spec)
            assert sandbox.client is not None  # noqa: S101 - set when the sandbox starts
            execution = sandbox.client.submit(spec, inputs, run_id=run_id)
            _wait_with_progress(sandbox, execution, spec, progress)
            outputs = execution.outputs()
            # Files must be copied out before the emulated bucket goes away; they keep their names.
            materialise_files(outputs, default_home() / "outputs" / execution.run_id)
        except SdkError as exc:
            history.finish(run_id, "FAILED", error=str(exc))
            raise
        except BaseException as exc:
            history.finish(run_id, "FAILED", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if use_cache:
                store.save(sandbox)
        history.finish(run_id, "SUCCEEDED", outputs=display(outputs))
        return outputs
