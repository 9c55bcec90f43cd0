"""Actors (Union's API): ``ActorEnvironment`` pools warm workers; ``@actor_cache`` keeps a value per worker.

An actor task is an ordinary task whose spec names its environment (``ir.ActorRef``) and
takes the environment's resources, interruptibility and image, so a short task reuses a
running worker instead of paying a container start, and a model loaded through
``@actor_cache`` is loaded once per worker rather than once per task.

Example:
    >>> from stratoflow import ActorEnvironment, actor_cache
    >>> env = ActorEnvironment(name="scorers", replica_count=2, ttl_seconds=60)
    >>> @actor_cache
    ... def weights(seed: int) -> list[int]:
    ...     return [seed, seed + 1]
    >>> @env.task
    ... def score(x: int) -> int:
    ...     return sum(weights(1)) * x
    >>> score(x=2), score.spec.actor.replica_count
    (6, 2)
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar, Unpack, overload

from stratoflow import accelerators, ir
from stratoflow.define._location import caller_location
from stratoflow.define._options import TaskKwargs
from stratoflow.define._resources import Resources
from stratoflow.define._task import TaskDef, declare
from stratoflow.errors import DefinitionError, Problem

__all__ = ["DEFAULT_TTL_SECONDS", "ENVIRONMENT_OPTIONS", "ActorEnvironment", "actor_cache"]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_TTL_SECONDS = 100
"""How long an idle worker lives when ``ttl_seconds`` is not given (Union's default)."""

ENVIRONMENT_OPTIONS = ("accelerator", "container_image", "interruptible", "limits", "requests")
"""Options an actor task takes from its environment (all its tasks share the same workers)."""

# Environment names become queue, log-group and task-definition names: keep them portable.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


class ActorEnvironment:
    """A pool of ``replica_count`` warm workers that run its tasks; idle workers exit after ``ttl_seconds``.

    Locally the workers are long-lived processes; on AWS they are Fargate containers (Spot when
    ``interruptible``) that take tasks from a queue, start when a task is waiting and too few
    are running, and exit when idle, so an idle environment costs nothing.
    """

    def __init__(
        self,
        name: str,
        *,
        replica_count: int = 1,
        ttl_seconds: int | None = None,
        requests: Resources | None = None,
        limits: Resources | None = None,
        accelerator: accelerators.GPUAccelerator | str | None = None,
        interruptible: bool = False,
        container_image: Any = None,
    ) -> None:
        # A plain __init__ (not a dataclass's generated one) so caller_location() is the user's line.
        at = caller_location()
        what = f"ActorEnvironment '{name}'"
        problems: list[str] = []
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                f"{what}: name must start with a letter and use only letters, digits, '-' and '_' "
                "(at most 63 characters)"
            )
        if not isinstance(replica_count, int) or isinstance(replica_count, bool) or replica_count < 1:
            problems.append(f"{what}: replica_count must be an integer >= 1, got {replica_count!r}")
        ttl = DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
            problems.append(f"{what}: ttl_seconds must be an integer >= 1, got {ttl_seconds!r}")
        if problems:
            raise DefinitionError([Problem(message, at.path, at.line, at.col) for message in problems])
        self.name = name
        self.replica_count = replica_count
        self.ttl_seconds = ttl
        self.requests = requests
        self.limits = limits
        self.accelerator = accelerator
        self.interruptible = interruptible
        self.container_image = container_image
        self.ref = ir.ActorRef(name=name, replica_count=replica_count, ttl_seconds=ttl)

    def _options(self) -> dict[str, Any]:
        chosen = {
            "requests": self.requests,
            "limits": self.limits,
            "accelerator": self.accelerator,
            "container_image": self.container_image,
        }
        options = {name: value for name, value in chosen.items() if value is not None}
        if self.interruptible:
            options["interruptible"] = True
        return options

    @overload
    def task(self, fn: Callable[P, R], /) -> TaskDef[P, R]: ...

    @overload
    def task(self, /, **options: Unpack[TaskKwargs]) -> Callable[[Callable[P, R]], TaskDef[P, R]]: ...

    def task(
        self, fn: Callable[P, R] | None = None, /, **options: Unpack[TaskKwargs]
    ) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
        """``@env.task``: a task that runs on this environment's workers (``@task``'s other options apply)."""
        clashing = sorted(set(options) & set(ENVIRONMENT_OPTIONS))
        if clashing:
            at = caller_location()
            raise DefinitionError(
                Problem(
                    f"actor task of ActorEnvironment '{self.name}' sets {', '.join(clashing)}: "
                    "its workers are shared, so set these on the ActorEnvironment",
                    at.path,
                    at.line,
                    at.col,
                )
            )
        merged: TaskKwargs = {**options, **self._options()}  # type: ignore[typeddict-item]
        return declare(fn, merged, kind="task", actor=self.ref)

    def __repr__(self) -> str:
        return f"ActorEnvironment({self.name!r}, replica_count={self.replica_count})"


def actor_cache(fn: Callable[P, R]) -> Callable[P, R]:
    """Keep ``fn``'s result for each distinct argument list for the life of the worker process.

    Use it for what is costly to build and safe to share between tasks on one worker (a loaded
    model, a client). Arguments must be hashable. Outside actors it caches for the process.
    Concurrent first calls with the same arguments (map items on threads) compute it once.
    """
    results: dict[Hashable, Any] = {}
    guard = threading.Lock()
    key_locks: dict[Hashable, threading.Lock] = {}

    @functools.wraps(fn)
    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        key = (args, tuple(sorted(kwargs.items())))
        if key in results:
            return results[key]  # type: ignore[no-any-return]
        with guard:
            lock = key_locks.setdefault(key, threading.Lock())
        with lock:  # one computation per key; the others wait for it instead of repeating it
            if key not in results:
                results[key] = fn(*args, **kwargs)
        return results[key]  # type: ignore[no-any-return]

    def cache_clear() -> None:
        """Forget every kept value (``functools.cache``'s spelling), as a new worker would start."""
        with guard:
            results.clear()
            key_locks.clear()

    cached.cache_clear = cache_clear  # type: ignore[attr-defined]
    return cached
