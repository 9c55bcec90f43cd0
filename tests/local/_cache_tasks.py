"""Cached tasks for the cache tests. Each appends to ``marker`` (an input the cache ignores) when its
body runs, so a test can count executions across threads and processes.

Also runnable as a file: ``stratoflow run tests/local/_cache_tasks.py doubled --x 3 --marker PATH``.
"""

from __future__ import annotations

import os
from pathlib import Path

from stratoflow import File, map_task, task, workflow


def ran(marker: str) -> None:
    with open(marker, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")


@task(cache=True, cache_ignore_input_vars=("marker",))
def cached_double(x: int, marker: str) -> int:
    ran(marker)
    return 2 * x


@task(cache=True, cache_ignore_input_vars=("marker",))
def cached_inc(x: int, marker: str) -> int:
    ran(marker)
    return x + 1


@workflow
def doubled(x: int, marker: str) -> int:
    return cached_inc(x=cached_double(x=x, marker=marker), marker=marker)


@workflow
def doubled_elsewhere(x: int, marker: str) -> int:
    """The same cached tasks as ``doubled``, in another workflow: its cache entries are its own."""
    return cached_inc(x=cached_double(x=x, marker=marker), marker=marker)


@task(cache=True, cache_version="1", cache_ignore_input_vars=("marker",))
def shout_file(data: File, marker: str) -> str:
    ran(marker)
    with data.open(encoding="utf-8") as handle:
        return handle.read().upper()


@workflow
def shouted(data: File, marker: str) -> str:
    return shout_file(data=data, marker=marker)


@task(cache=True, cache_ignore_input_vars=("marker", "flag"))
def fails_while_flagged(x: int, marker: str, flag: str) -> int:
    ran(marker)
    if Path(flag).exists():
        raise RuntimeError(f"flag {flag} is set")
    return x * 10


@workflow
def flagged(x: int, marker: str, flag: str) -> int:
    return fails_while_flagged(x=x, marker=marker, flag=flag)


@task(cache=True, cache_ignore_input_vars=("marker",))
def big_range(n: int, marker: str) -> list[int]:
    ran(marker)
    return list(range(n))


@workflow
def big(n: int, marker: str) -> list[int]:
    return big_range(n=n, marker=marker)


@task(cache=True, cache_ignore_input_vars=("marker", "flag"))
def item_square(x: int, marker: str, flag: str) -> int:
    ran(marker)
    if x == 2 and Path(flag).exists():
        raise RuntimeError("item 2 fails while flagged")
    return x * x


@workflow
def mapped_squares(xs: list[int], marker: str, flag: str) -> list[int]:
    return map_task(item_square)(x=xs, marker=marker, flag=flag)
