"""``stratoflow run --sandbox``: run the compiled state machine in an in-process emulated AWS.

It looks like a local run: the same progress bar, no emulator or Lambda-logger output
unless ``--verbose`` (their loggers are silenced and the in-process containers' own lines
kept), the user's error and traceback on a failure, a record in the run history
(``executions ls`` marks it sandbox), a cache that outlives the process
(``$STRATOFLOW_HOME/sandbox/``, cleared by ``stratoflow cache clear --sandbox``), and gates
that ``stratoflow signal`` / ``approve`` in another shell complete (``_sandbox_gates``).
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow._frozen_heap import freeze_at_exit, freeze_loaded
from stratoflow.cache import default_home
from stratoflow.errors import ConfigError, SdkError
from stratoflow.values import materialise_files

if TYPE_CHECKING:
    from stratoflow.backends.local import RunHistory
    from stratoflow.client import Execution
    from stratoflow.testing._sandbox import Sandbox

__all__ = ["QUIET_LOGGERS", "emulator", "run_sandbox", "sandbox_store_root", "warm_up"]

QUIET_LOGGERS = ("moto", "botocore", "stratoflow-task-runner", "stratoflow-trigger-starter")
"""The emulator's and the runner Lambda's loggers (powertools JSON): silent unless ``--verbose``."""

_POLL_SECONDS = 0.1


def sandbox_store_root() -> Path:
    """Where the sandbox keeps its cache and blobs between runs."""
    return default_home() / "sandbox"


@contextlib.contextmanager
def _collect_less() -> Iterator[Callable[[], None]]:
    """Keep Python's cyclic collector off the emulator's own heap; yields "the emulator is up".

    Importing and starting moto, botocore and the emulated account allocates a large heap
    of long-lived objects, which the collector kept walking: three full collections, about
    0.3 s of a 2 s run. It is paused while they are made (they make next to no garbage);
    once the emulator is up they are frozen (``gc.freeze``: left out of collections) and the
    run's own garbage is collected as usual; at the end they are unfrozen, so a process that
    goes on (a test session) collects them again (with what the imports froze: ``gc.unfreeze``
    cannot tell them apart, and unfrozen they are only walked again).
    """
    enabled = gc.isenabled()
    gc.disable()

    def started() -> None:
        freeze_loaded()  # gc.freeze, unless STRATOFLOW_GC_FREEZE=0
        if enabled:
            gc.enable()

    try:
        yield started
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


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


def emulator() -> type[Sandbox]:
    """The emulated stack's class; a ConfigError saying what to install when it cannot load."""
    try:
        from stratoflow.testing._sandbox import Sandbox  # noqa: PLC0415 - moto is only paid for on --sandbox
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"--sandbox needs the emulated AWS, which is not installed ({exc}): "
            "pip install 'stratoflow[sandbox]'"
        ) from exc
    return Sandbox


def warm_up() -> None:
    """Run ``_sandbox_warmup``'s workflow in a throwaway emulated stack (the sandbox server, once).

    It touches no run history and no saved sandbox cache: what it warms is the process (parsed
    service models, built backends, loaded modules), which the server's children inherit.
    """
    from stratoflow.cli._sandbox_warmup import warmup  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    with _quiet(False), emulator()(container_log=io.StringIO()) as sandbox, _quiet(False):
        sandbox.run(lower(warmup), {"n": 2})


def _local_copy(records: list[ir.NodeRecord]) -> list[ir.NodeRecord]:
    """A sandbox run's records as the run history keeps them: its CloudWatch locations name an
    emulated account that is gone once the run ends (its lines went to this terminal)."""
    return [r.model_copy(update={"logs": None}) if r.logs is not None else r for r in records]


def _wait_with_progress(
    sandbox: Sandbox, execution: Execution, spec: ir.WorkflowSpec, show: bool | None, history: RunHistory
) -> None:
    """Wait for ``execution``, advancing the progress bars and copying its node records into the
    run history as they land, and once more (completed from the execution) when it ends."""
    from stratoflow.backends.local import start_progress  # noqa: PLC0415
    from stratoflow.cli._remote_progress import RecordsWatcher  # noqa: PLC0415
    from stratoflow.cli._sandbox_gates import GateBridge, may_wait_at_gates  # noqa: PLC0415

    run_id = execution.run_id
    watcher = RecordsWatcher(
        sandbox.aws.client("s3"),
        sandbox.bucket,
        run_id,
        spec,
        start_progress(spec, show),
        on_records=lambda records: history.put_nodes(run_id, _local_copy(records)),
        poll_seconds=_POLL_SECONDS,
    )
    gates: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if may_wait_at_gates(spec):  # another shell's `stratoflow signal` reaches it (_sandbox_gates)
        assert sandbox.client is not None  # noqa: S101 - set when the sandbox starts
        gates = GateBridge(
            sandbox.client, default_home(), workflow=spec.name, run_id=run_id, poll_seconds=_POLL_SECONDS
        )
    try:
        with watcher, gates:
            sandbox.wait_ended(execution)  # the end as it happens, then read as a client does
            execution.wait()
    finally:
        with contextlib.suppress(Exception):  # bookkeeping: the run's own outcome is what matters
            history.put_nodes(run_id, _local_copy(execution.node_records(seen=watcher.seen)))


def run_sandbox(
    spec: ir.WorkflowSpec,
    inputs: Mapping[str, Any],
    *,
    verbose: bool = False,
    use_cache: bool = True,
    overwrite_cache: bool = False,
    progress: bool | None = None,
    display: Callable[[dict[str, Any]], Any] = lambda outputs: outputs,
) -> dict[str, Any]:
    """Deploy ``spec`` into a fresh emulated stack, run it once, return its outputs.

    ``use_cache=False`` runs it as ``run --remote --no-cache`` does (no task reads or writes the
    cache), in a stack that starts from an empty emulated cache and keeps nothing of this run's;
    ``overwrite_cache=True`` as ``run --remote --overwrite-cache`` (its results replace the kept
    entries); ``progress`` as ``RunOptions.progress``; ``display`` renders the outputs for the history.
    """
    from stratoflow.backends.local import validate_inputs  # noqa: PLC0415

    validate_inputs(spec, inputs)  # rejected inputs are not runs: nothing is recorded
    # Finalization collects garbage while it tears the modules down: with moto, botocore and the
    # emulated account loaded, that took over a second after the run had ended.
    freeze_at_exit()
    with _collect_less() as started:
        return _run(
            spec,
            inputs,
            verbose=verbose,
            use_cache=use_cache,
            overwrite_cache=overwrite_cache,
            progress=progress,
            display=display,
            started=started,
        )


def _run(
    spec: ir.WorkflowSpec,
    inputs: Mapping[str, Any],
    *,
    verbose: bool,
    use_cache: bool,
    overwrite_cache: bool,
    progress: bool | None,
    display: Callable[[dict[str, Any]], Any],
    started: Callable[[], None],
) -> dict[str, Any]:
    from stratoflow.backends.local import RunHistory  # noqa: PLC0415
    from stratoflow.cli._sandbox_store import SandboxStore  # noqa: PLC0415

    Sandbox = emulator()

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
            started()
            assert sandbox.client is not None  # noqa: S101 - set when the sandbox starts
            execution = sandbox.client.submit(
                spec, inputs, run_id=run_id, cache=use_cache, overwrite_cache=overwrite_cache
            )
            _wait_with_progress(sandbox, execution, spec, progress, history)
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
