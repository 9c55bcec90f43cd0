"""Cached tasks for the emulated integrity tests; CALLS counts user-function runs."""

from __future__ import annotations

from collections import Counter

from stratoflow import task, workflow

CALLS: Counter[str] = Counter()


@task(cache=True, cache_version="1")
def big_list(n: int) -> list[int]:
    CALLS["big_list"] += 1
    return list(range(n))


@workflow
def big_flow(n: int) -> list[int]:
    return big_list(n=n)


@task(cache=True, cache_version="1")
def small(x: int) -> int:
    CALLS["small"] += 1
    return x * 3


@workflow
def small_flow(x: int) -> int:
    return small(x=x)
