"""Dynamics and workflows that return containers of promises (importable by ref for any backend)."""

from __future__ import annotations

from typing import NamedTuple

from stratoflow import dynamic, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def label(x: int) -> str:
    return f"#{x}"


class Stats(NamedTuple):
    low: int
    high: int


@dynamic
def incs(n: int) -> list[int]:
    return [inc(x=i) for i in range(n)]


@dynamic
def labelled(n: int) -> dict[str, str]:
    return {f"k{i}": label(x=i) for i in range(n)}


@dynamic
def bounds(n: int) -> Stats:
    return Stats(low=inc(x=0), high=inc(x=n))


@dynamic
def nested(n: int) -> dict[str, list[int]]:
    return {"even": [inc(x=i) for i in range(0, n, 2)], "odd": [inc(x=i) for i in range(1, n, 2)]}


@workflow
def listed(a: int, b: int) -> list[int]:
    return [inc(x=a), inc(x=b), 7]


@workflow
def keyed(a: int) -> dict[str, int]:
    return {"one": inc(x=a), "two": inc(x=inc(x=a))}


@workflow
def fan(n: int) -> list[int]:
    return incs(n=n)
