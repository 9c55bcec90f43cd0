"""Workflows of actor tasks for the emulated end-to-end tests (imported by the runner by task ref).

The counters are module state: the emulated workers are threads of the test process, so every
call the workers make lands here.
"""

from __future__ import annotations

import threading

from stratoflow import ActorEnvironment, actor_cache, map_task, task, workflow
from stratoflow.testing._patches_ecs import ContainerReclaimed

pool = ActorEnvironment(name="emu-pool", replica_count=2, ttl_seconds=30)
"""The 200-task environment: two warm workers."""

brief = ActorEnvironment(name="emu-brief", replica_count=1, ttl_seconds=1)
"""A one-worker environment whose idle worker exits after a second."""

LOADS: list[str] = []
"""The worker thread of every ``weights`` load (``@actor_cache``: at most once per worker)."""
_LOADS_LOCK = threading.Lock()
KILLS: list[int] = []
"""Arguments whose first run killed its worker mid-task."""


@actor_cache
def weights() -> int:
    with _LOADS_LOCK:
        LOADS.append(threading.current_thread().name)
    return 3


@pool.task
def score(x: int) -> int:
    return weights() * x


@pool.task
def add(total: int, x: int) -> int:
    return total + x


@pool.task
def summarise(scored: list[int], total: int) -> list[int]:
    return [*scored, total]


CHAIN = 50


@workflow
def actors(xs: list[int], start: int = 0) -> list[int]:
    scored: list[int] = map_task(score)(x=xs)
    total = start
    for i in range(CHAIN):
        total = add(total=total, x=i)
    return summarise(scored=scored, total=total)


@brief.task
def fragile(x: int) -> int:
    if x not in KILLS:  # the first run of each x loses its worker mid-task
        KILLS.append(x)
        raise ContainerReclaimed(f"worker killed while running fragile(x={x})")
    return x + 1


@workflow
def killed(x: int) -> int:
    return fragile(x=x)


@brief.task
def bump(x: int) -> int:
    return x + 1


@workflow
def idle(x: int) -> int:
    return bump(x=x)


@workflow
def one_score(x: int) -> int:
    return score(x=x)


CACHED_CALLS: list[int] = []


@brief.task(cache=True, cache_version="1")
def cached_bump(x: int) -> int:
    CACHED_CALLS.append(x)
    return x + 1


@workflow
def cached(x: int) -> int:
    return cached_bump(x=x)


@brief.task(retries=1)
def refuse(x: int) -> int:
    raise ValueError(f"refused x={x}")


@workflow
def refused(x: int) -> int:
    return refuse(x=x)


@task(retries=1)
def refuse_plain(x: int) -> int:
    raise ValueError(f"refused x={x}")


@workflow
def refused_plain(x: int) -> int:
    return refuse_plain(x=x)
