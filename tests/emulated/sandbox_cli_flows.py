"""Workflows `stratoflow run --sandbox` runs in the CLI tests (a cached task, a failing one)."""

from __future__ import annotations

from collections import Counter

from stratoflow import Resources, task, workflow

CALLS: Counter[str] = Counter()  # task bodies run in-process in the sandbox


@task(cache=True, cache_version="1")
def double(x: int) -> int:
    CALLS["double"] += 1
    return 2 * x


@task
def lookup(y: int) -> int:
    raise KeyError(f"no column {y}")


@task(requests=Resources(cpu=8, mem="32Gi"))
def container_lookup(y: int) -> int:
    raise KeyError(f"no column {y}")


@workflow
def doubled(x: int) -> int:
    return double(x=x)


@workflow
def broken(x: int) -> int:
    return lookup(y=double(x=x))


@workflow
def broken_container(x: int) -> int:
    return container_lookup(y=x)
