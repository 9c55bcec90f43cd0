"""Map workflows run both locally and on emulated AWS; user-function calls are counted in-process.

``fragile`` fails deterministically for every ``every``-th item until a test flips
``FIXED`` (monkeypatch), which is how "fix the failing items, then re-run" is simulated.
"""

from __future__ import annotations

import collections
import functools
import threading

from stratoflow import map_task, task, workflow

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()
FIXED = False


def _count(name: str) -> None:
    with _LOCK:
        CALLS[name] += 1


class FragileItemError(ValueError):
    """Raised by `fragile` for the items it cannot handle (until FIXED)."""


@task(cache=True, cache_version="1")
def square(x: int) -> int:
    _count("square")
    return x * x


@workflow
def squares(xs: list[int]) -> list[int]:
    out: list[int] = map_task(square)(x=xs)
    return out


@task
def negate(x: int) -> int:
    return -x


@workflow
def negations(xs: list[int]) -> list[int]:
    """Uncached items: no cache round trips per item, so big emulated maps stay quick."""
    out: list[int] = map_task(negate)(x=xs)
    return out


@task
def offset(k: int) -> int:
    return k + 1


@task(cache=True, cache_version="1")
def scale(x: int, k: int) -> int:
    _count("scale")
    return x * k


@workflow
def scaled(xs: list[int], k: int) -> list[int]:
    """The mapped task's ``k`` is bound to an upstream node's output (a promise)."""
    factor = offset(k=k)
    out: list[int] = map_task(functools.partial(scale, k=factor), concurrency=4)(x=xs)
    return out


@task
def add(a: int, b: str) -> str:
    return f"{b}{a}"


@workflow
def zipped(xs: list[int], labels: list[str]) -> list[str]:
    out: list[str] = map_task(add, batch_size=3)(a=xs, b=labels)
    return out


@task(cache=True, cache_version="1")
def fragile(x: int, every: int) -> int:
    _count("fragile")
    if not FIXED and x % every == 0:
        raise FragileItemError(f"item {x} is broken")
    return x + 1000


@workflow
def tolerant(xs: list[int], every: int) -> list[int | None]:
    out: list[int | None] = map_task(functools.partial(fragile, every=every), min_success_ratio=0.9)(x=xs)
    return out


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def squares_then_total(xs: list[int]) -> int:
    """A map between ordinary tasks: its three states are one node to the planner."""
    return total(values=map_task(square)(x=xs))
