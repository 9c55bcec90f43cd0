"""flytekit's ``current_context()``: what a running task knows about its execution.

The runner opens :func:`execution_scope` around every call of a task function, in every backend
(local threads and processes, actor workers, the Lambda runner, the container entrypoint), from
the run, node and attempt it runs; :func:`current_context` reads it. Outside a task it gives
flytekit's local defaults (execution ``local/local/local``, no checkpoint).

``current_context().checkpoint`` is one attempt's :class:`~stratoflow.define._checkpoint.Checkpoint`.

Example:
    >>> from stratoflow import current_context, task
    >>> @task(retries=2)
    ... def train(epochs: int) -> int:
    ...     cp = current_context().checkpoint
    ...     done = int(cp.read() or b"0")
    ...     for epoch in range(done, epochs):
    ...         cp.write(str(epoch + 1).encode())
    ...     return epochs
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING

from stratoflow.define._checkpoint import Checkpoint, RunStorage
from stratoflow.define._secrets import SecretsManager

# Not ``protocol``: it loads pydantic, which ``import stratoflow`` must not (test_import_light).
from stratoflow.ir import _storage

if TYPE_CHECKING:
    from stratoflow.define._deck import Deck
    from stratoflow.define._parameters import ExecutionParameters

__all__ = [
    "Checkpoint",
    "RunStorage",
    "SecretsManager",
    "current_context",
    "execution_scope",
    "running_attempt",
]

PROJECT = "stratoflow"
DOMAIN = "development"


class _Scratch:
    """A folder made on first use (most tasks never ask: a thousand map items make no thousand folders)."""

    def __init__(self, prefix: str, *, remove_at_exit: bool = False) -> None:
        self._prefix = prefix
        self._path: str | None = None
        self._remove_at_exit = remove_at_exit

    def path(self) -> str:
        if self._path is None:
            import tempfile  # noqa: PLC0415 - loaded when a task asks for its working directory

            self._path = tempfile.mkdtemp(prefix=self._prefix)
            if self._remove_at_exit:  # no attempt ends to remove it: the process's end does
                import atexit  # noqa: PLC0415

                atexit.register(self.remove)
        return self._path

    def remove(self) -> None:
        if self._path is not None:
            import shutil  # noqa: PLC0415 - loaded when a task had a working directory

            shutil.rmtree(self._path, ignore_errors=True)


class _Attempt:
    """One running attempt: what its ``current_context()`` is made of, made on the first call.

    Most tasks never call ``current_context()``; a map's thousand items would otherwise each
    build a logger adapter, a checkpoint and an execution id they never read.
    """

    __slots__ = (
        "_params",
        "_token",
        "attempt",
        "enable_deck",
        "node",
        "run_id",
        "scratch",
        "secrets",
        "started",
        "storage",
        "workflow",
    )

    def __init__(
        self,
        *,
        workflow: str,
        run_id: str,
        node: str,
        attempt: int,
        storage: RunStorage | None,
        enable_deck: bool,
        secrets: SecretsManager,
        scratch: _Scratch,
    ) -> None:
        self.workflow = workflow
        self.run_id = run_id
        self.node = node
        self.attempt = attempt
        self.storage = storage
        self.enable_deck = enable_deck
        self.secrets = secrets
        self.scratch = scratch
        self.started = datetime.datetime.now(datetime.UTC)
        self._params: ExecutionParameters | None = None

    def __enter__(self) -> None:
        self._token = _CURRENT.set(self)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None and self.enable_deck:  # a succeeding attempt's decks, as flytekit writes them
                self.params().publish_decks()
        finally:
            _CURRENT.reset(self._token)
            self.scratch.remove()

    def params(self) -> ExecutionParameters:
        # One thread per attempt (the ContextVar is not inherited by threads the task starts
        # unless it copies its context): no lock needed around the first build.
        if self._params is None:
            self._params = self._build()
        return self._params

    def _build(self) -> ExecutionParameters:
        storage, workflow, run_id, node, attempt = (
            self.storage,
            self.workflow,
            self.run_id,
            self.node,
            self.attempt,
        )
        scratch = self.scratch
        name = execution_name(run_id)
        from stratoflow.define._parameters import (  # noqa: PLC0415 - on the first current_context()
            ExecutionParameters,
            WorkflowExecutionIdentifier,
            prefixed_user_logger,
        )

        return ExecutionParameters(
            execution_id=WorkflowExecutionIdentifier(PROJECT, DOMAIN, name),
            execution_date=self.started,
            _scratch=scratch,
            _raw_output=(
                partial(storage.uri, _storage.raw_output_prefix(workflow, run_id))
                if storage
                else scratch.path
            ),
            logging=prefixed_user_logger(f"{name} {node} attempt {attempt}", self.secrets),
            secrets=self.secrets,
            attempt=attempt,
            node=node,
            _checkpoint=(
                Checkpoint(storage, workflow, run_id, node, attempt, scratch=scratch.path)
                if storage is not None
                else None
            ),
            enable_deck=self.enable_deck,
            _publish=_deck_writer(storage, workflow, run_id, node) if self.enable_deck else None,
            _run_id=run_id,
        )


_CURRENT: ContextVar[_Attempt | None] = ContextVar("stratoflow_execution", default=None)
_LOCAL_SCRATCH = _Scratch("stratoflow-local-", remove_at_exit=True)  # outside a task: one per process


def current_context() -> ExecutionParameters:
    """The running task's execution parameters (flytekit's ``current_context()``).

    Example:
        >>> current_context().execution_id.name  # outside a task: flytekit's local defaults
        'local'
    """
    running = _CURRENT.get()
    if running is not None:
        return running.params()
    from stratoflow.define._parameters import (  # noqa: PLC0415 - loaded on the first call
        ExecutionParameters,
        WorkflowExecutionIdentifier,
        prefixed_user_logger,
    )

    secrets = SecretsManager()
    return ExecutionParameters(
        execution_id=WorkflowExecutionIdentifier("local", "local", "local"),
        execution_date=datetime.datetime.now(datetime.UTC),
        _scratch=_LOCAL_SCRATCH,
        _raw_output=_LOCAL_SCRATCH.path,
        logging=prefixed_user_logger("", secrets),
        secrets=secrets,
        attempt=1,
        node="",
    )


def running_attempt() -> tuple[str, str] | None:
    """(run id, node label) of the task attempt this thread is running, or ``None`` outside one.

    The run id is the runner's own (a ``@dynamic`` sub-run's), not the execution's name: the
    local backend finds a node's log file by it.
    """
    running = _CURRENT.get()
    return None if running is None or not running.run_id else (running.run_id, running.node)


def execution_name(run_id: str) -> str:
    """The execution a run id belongs to: a ``@dynamic`` sub-run (``<run>.<node>``) is its parent's."""
    return run_id.split(".", 1)[0]


def _deck_writer(
    storage: RunStorage | None, workflow: str, run_id: str, node: str
) -> Callable[[list[Deck]], object] | None:
    if storage is None:
        return None
    from stratoflow.define._deck import write_decks  # noqa: PLC0415 - _deck imports this module

    return lambda decks: write_decks(storage, workflow, run_id, node, decks)


def execution_scope(
    *,
    workflow: str,
    run_id: str,
    node: str,
    attempt: int,
    storage: RunStorage | None,
    enable_deck: bool = False,
    secrets: SecretsManager | None = None,
) -> AbstractContextManager[None]:
    """Make ``current_context()`` this attempt's while the task function runs; its working directory
    (under ``tempfile``'s, the scratch volume in a container) is removed afterwards. With
    ``enable_deck``, the decks the task made are stored when the block ends without an error.

    ``secrets``: the task's requested secrets and the run's store (default: the environment only).
    """
    # A class, not a generator: entered and left once per task attempt (a map's every item).
    return _Attempt(
        workflow=workflow,
        run_id=run_id,
        node=node,
        attempt=attempt,
        storage=storage,
        enable_deck=enable_deck,
        secrets=secrets or SecretsManager(),
        scratch=_Scratch(f"stratoflow-attempt{attempt}-"),
    )
