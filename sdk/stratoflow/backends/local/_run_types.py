"""What a local run is given (:class:`RunOptions`) and gives back (:class:`LocalRun`), and its
actor pool, started only by an actor task."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from stratoflow.values import LiteralRef

if TYPE_CHECKING:
    from rich.console import Console

    from stratoflow.backends.local._actor_pool import ActorPool, ActorStats

__all__ = ["LocalRun", "RunActors", "RunOptions"]


# A NamedTuple, not a frozen dataclass: defined in every process that runs a workflow, and a
# tuple is cheaper to define.
class RunOptions(NamedTuple):
    """How a local run behaves."""

    max_workers: int | None = None
    use_cache: bool = True
    # Flyte's overwrite_cache: cached tasks run again and their results replace the entries.
    overwrite_cache: bool = False
    home: Path | None = None
    progress: bool | None = None  # None: show progress bars only on a terminal
    retry_base_seconds: float = 1.0
    # Where the progress bars are drawn (default: rich's stderr console); tests pass their own.
    progress_console: Console | None = None


class LocalRun:
    """The result of a local run.

    A plain class, not a dataclass: it is defined in every process that runs a workflow, where
    a dataclass's generated methods take about half a millisecond to define.
    """

    __slots__ = ("actors", "cache_hits", "executed", "literals", "outputs", "recovered", "run_id", "skipped")

    def __init__(self, run_id: str, outputs: dict[str, Any], literals: dict[str, LiteralRef]) -> None:
        self.run_id = run_id
        self.outputs = outputs
        self.literals = literals
        self.cache_hits: set[str] = set()
        self.executed: set[str] = set()
        # Nodes in the cases a conditional did not take.
        self.skipped: set[str] = set()
        # Per actor environment used: its worker processes' starts, pids, losses and expiries.
        self.actors: dict[str, ActorStats] = {}
        # A recovered run's nodes reused from the failed run (not run again).
        self.recovered: set[str] = set()

    def __repr__(self) -> str:
        return f"LocalRun(run_id={self.run_id!r}, outputs={self.outputs!r})"


class RunActors:
    """The run's actor pool, started by its first actor task: most runs have none, and never
    load the pool's module (nested schedulers of conditionals and @dynamic share this one)."""

    __slots__ = ("_home", "_overwrite_cache", "_pool", "_use_cache")

    def __init__(self, home: Path, *, use_cache: bool, overwrite_cache: bool = False) -> None:
        self._home, self._use_cache, self._overwrite_cache = home, use_cache, overwrite_cache
        self._pool: ActorPool | None = None

    def pool(self) -> ActorPool:
        if self._pool is None:
            from stratoflow.backends.local._actor_pool import ActorPool  # noqa: PLC0415 - actor runs only

            self._pool = ActorPool(
                self._home, use_cache=self._use_cache, overwrite_cache=self._overwrite_cache
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def stats(self) -> dict[str, ActorStats]:
        return {} if self._pool is None else self._pool.stats()
