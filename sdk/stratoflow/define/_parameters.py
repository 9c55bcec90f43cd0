"""What ``current_context()`` returns: flytekit's ``ExecutionParameters`` and its user logger.

Loaded on the first ``current_context()`` call (most tasks never make one): its classes are not
part of ``import stratoflow``. :mod:`stratoflow.define._execution` builds the value.
"""

from __future__ import annotations

import datetime
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stratoflow.define._checkpoint import Checkpoint
    from stratoflow.define._deck import Deck
    from stratoflow.define._execution import _Scratch
    from stratoflow.define._secrets import SecretsManager

__all__ = ["ExecutionParameters", "WorkflowExecutionIdentifier", "prefixed_user_logger"]


@dataclass(frozen=True)
class WorkflowExecutionIdentifier:
    """flytekit's execution id: ``project``, ``domain`` and ``name`` (the run id)."""

    project: str
    domain: str
    name: str

    def __str__(self) -> str:
        return f"ex:{self.project}:{self.domain}:{self.name}"


@dataclass(frozen=True)
class ExecutionParameters:
    """flytekit's ``ExecutionParameters``: what ``current_context()`` returns."""

    execution_id: WorkflowExecutionIdentifier
    execution_date: datetime.datetime
    _scratch: _Scratch
    _raw_output: Callable[[], str]  # where raw_output_prefix points, asked on first use
    logging: logging.LoggerAdapter[logging.Logger]
    secrets: SecretsManager
    attempt: int
    node: str
    _checkpoint: Checkpoint | None = None
    enable_deck: bool = False
    decks: list[Deck] = field(default_factory=list)
    # Stores this attempt's decks (``Deck.publish()``, and when the task succeeds); None outside a run.
    _publish: Callable[[list[Deck]], object] | None = None
    # The run id the runner ran this attempt under (a @dynamic sub-run's own): a local run's
    # node logs are found by it (``execution_id`` names only the top execution).
    _run_id: str = ""

    @property
    def default_deck(self) -> Deck:
        """The deck named "default" (one per attempt; flytekit makes a new one on every access)."""
        from stratoflow.define._deck import Deck  # noqa: PLC0415 - _deck imports this module

        found = next((deck for deck in self.decks if deck.name == "default"), None)
        return found if found is not None else Deck("default")

    def publish_decks(self) -> None:
        """Store this attempt's decks now (a task with ``enable_deck=True`` only)."""
        if self.enable_deck and self._publish is not None:
            self._publish(self.decks)

    @cached_property
    def raw_output_prefix(self) -> str:
        """Flyte's ``raw_output_prefix``: where a task may write data of its own."""
        return self._raw_output()

    @property
    def working_directory(self) -> str:
        """This attempt's scratch folder (made on first use, removed after the attempt)."""
        return self._scratch.path()

    @property
    def checkpoint(self) -> Checkpoint:
        """This attempt's checkpoint (only inside a task, as in flytekit)."""
        if self._checkpoint is None:
            raise NotImplementedError(
                "checkpoints exist only while a task runs (current_context() in a task)"
            )
        return self._checkpoint


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (the node's log: a terminal, CloudWatch)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a log line must never fail the task
            self.handleError(record)


@cache  # once per process: every attempt of every map item asks for it
def _user_logger() -> logging.Logger:
    log = logging.getLogger("stratoflow.user")
    if not log.handlers:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        # Its own handler: on Lambda the root one would print every line twice.
        log.propagate = False
    return log


class _Prefixed(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The user logger of one attempt: lines prefixed with where they come from, secrets masked."""

    def __init__(self, logger: logging.Logger, extra: dict[str, str], secrets: SecretsManager) -> None:
        super().__init__(logger, extra)
        self._secrets = secrets

    def process(self, msg: object, kwargs: object) -> tuple[str, object]:  # type: ignore[override]
        text = f"[{self.extra['where']}] {msg}" if self.extra else str(msg)
        return self._secrets.redact(text), kwargs

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        # %-style arguments are joined in only by the handler: join them first, so they are masked too.
        if args:
            try:
                msg = str(msg) % args
            except (TypeError, ValueError):  # a bad format string must not fail the task (logging's rule)
                msg = f"{msg} {args}"
        super().log(level, msg, **kwargs)  # type: ignore[arg-type]


def prefixed_user_logger(where: str, secrets: SecretsManager) -> logging.LoggerAdapter[logging.Logger]:
    """The user logger of one attempt (``where``: the execution, node and attempt; empty outside a
    task), masking ``secrets``."""
    return _Prefixed(_user_logger(), {"where": where} if where else {}, secrets)
