"""The workflow the sandbox server runs once, in a throwaway emulated stack, before it serves.

Its first run in a process is what makes a sandbox run slow after the imports: botocore parses
its service models, moto builds its backends, the runner Lambda and the ASL interpreter load
and compile their patterns. A server that has run this (a Lambda task, a cached one and a
map, as most workflows have) forks children that start with all of that done.
"""

from __future__ import annotations

from stratoflow import map_task, task, workflow

__all__ = ["warmup"]


@task
def warmup_items(n: int) -> list[int]:
    """``n`` items to map over."""
    return list(range(n))


@task(cache=True, cache_version="1")
def warmup_double(x: int) -> int:
    """A cached task: the emulated cache's reads and writes."""
    return 2 * x


@task
def warmup_total(xs: list[int]) -> int:
    """What the map gave."""
    return sum(xs)


@workflow
def warmup(n: int = 2) -> int:
    """Items, a cached map over them, their sum."""
    return warmup_total(xs=map_task(warmup_double)(x=warmup_items(n=n)))
