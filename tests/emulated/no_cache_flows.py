"""Cached tasks on Lambda, on Fargate and inside a cached ``@dynamic``: what ``--no-cache`` runs again."""

from __future__ import annotations

import collections
import threading

from stratoflow import Resources, dynamic, task, workflow

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def _count(name: str) -> None:
    with _LOCK:
        CALLS[name] += 1


@task(cache=True, cache_version="1")
def square(x: int) -> int:
    _count("square")
    return x * x


@task(cache=True, cache_version="1", requests=Resources(cpu=8, mem="32Gi"))
def heavy_square(x: int) -> int:
    _count("heavy_square")
    return x * x


@dynamic(cache=True, cache_version="1")
def squares(n: int) -> list[int]:
    _count("squares")
    return [square(x=i) for i in range(n)]


@workflow
def cached_everywhere(x: int) -> tuple[int, int, list[int]]:
    return square(x=x), heavy_square(x=x), squares(n=x)
