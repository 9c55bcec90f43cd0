"""Tasks and workflows for the worker-process map tests (module level: task refs are 'module:qualname')."""

from __future__ import annotations

import os

from stratoflow import File, map_task, task, workflow
from tests.local._tasks import bump, scratch_dir


@task
def whoami(i: int) -> int:
    return os.getpid()


@workflow
def pids(xs: list[int]) -> list[int]:
    return map_task(whoami, processes=True)(i=xs)


@workflow
def pids_on_threads(xs: list[int]) -> list[int]:
    return map_task(whoami)(i=xs)


@task(retries=2)
def flaky_item(i: int, counters: str, failures: int) -> int:
    """Fails its first ``failures`` calls (counted per item in a file, across processes)."""
    calls = bump(f"{counters}-{i}")
    if calls <= failures:
        raise RuntimeError(f"item {i} failure {calls}")
    return calls


@workflow
def flaky_items(xs: list[int], counters: str, failures: int) -> list[int]:
    return map_task(flaky_item, processes=True)(i=xs, counters=counters, failures=failures)


@task
def die_on_negative(x: int) -> int:
    if x < 0:
        os._exit(3)  # the worker process dies: no exception ever reaches the pool
    return x


@workflow
def dying(xs: list[int]) -> list[int]:
    return map_task(die_on_negative, processes=True)(x=xs)


@task
def write_item(text: str) -> File:
    path = scratch_dir() / "item.txt"
    path.write_text(text, encoding="utf-8")
    return File(path)


@task
def read_all(files: list[File]) -> str:
    parts = []
    for f in files:
        with f.open(encoding="utf-8") as handle:
            parts.append(handle.read())
    return "|".join(parts)


@workflow
def files_from_processes(texts: list[str]) -> str:
    return read_all(files=map_task(write_item, processes=True)(text=texts))


@task
def tick(i: int) -> int:
    return i


@workflow
def ten_ticks(xs: list[int]) -> list[int]:
    return map_task(tick, concurrency=2)(i=xs)
