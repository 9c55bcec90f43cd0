"""Actor tasks and their plain twins for tests/local/test_actors.py.

Module level, so the spawned worker processes import them by ref ('module:qualname'). Every
actor task's body is a helper its plain ``@task`` twin shares, so the two workflows can be
compared output for output.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from stratoflow import ActorEnvironment, File, actor_cache, dynamic, map_task, task, workflow
from tests.local._tasks import bump, scratch_dir

fleet = ActorEnvironment(name="fleet", replica_count=2, ttl_seconds=60)
brief = ActorEnvironment(name="brief", replica_count=1, ttl_seconds=1)
fragile = ActorEnvironment(name="fragile", replica_count=1)


@actor_cache
def model(log: str) -> int:
    """The costly load (a model, say): appends this process's pid to ``log``, once per process."""
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    return 7


def _score(x: int, log: str) -> int:
    return x * model(log) + 1


@fleet.task
def score(x: int, log: str) -> int:
    return _score(x, log)


@task
def score_plain(x: int, log: str) -> int:
    return _score(x, log)


@task
def collect(values: list[int]) -> list[int]:
    return values


@workflow
def two_hundred(xs: list[int], log: str) -> tuple[list[int], list[int]]:
    """150 map items and 50 single tasks, all in the 'fleet' environment."""
    mapped = map_task(score)(x=xs, log=log)
    singles = collect(values=[score(x=i, log=log) for i in range(50)])
    return mapped, singles


@workflow
def two_hundred_plain(xs: list[int], log: str) -> tuple[list[int], list[int]]:
    mapped = map_task(score_plain)(x=xs, log=log)
    singles = collect(values=[score_plain(x=i, log=log) for i in range(50)])
    return mapped, singles


# --- a dynamic sub-graph shares the run's workers ---------------------------------------------


@dynamic
def fan_out(n: int, log: str) -> list[int]:
    return collect(values=[score(x=i, log=log) for i in range(n)])


@workflow
def outer_and_dynamic(n: int, log: str) -> tuple[int, list[int]]:
    return score(x=100, log=log), fan_out(n=n, log=log)


# --- idle workers exit after ttl_seconds -------------------------------------------------------


@brief.task
def worker_pid(after: float) -> int:
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@task
def seconds_until_gone(pid: int, limit: float) -> float:
    """How long (in this process) until process ``pid`` is gone; -1 if it outlives ``limit``,
    -2 if it was already gone at the first look (it must idle first)."""
    start = time.monotonic()
    if not _alive(pid):
        return -2.0
    while _alive(pid):
        if time.monotonic() - start > limit:
            return -1.0
        time.sleep(0.02)
    return time.monotonic() - start


@workflow
def idle_then_again(limit: float) -> tuple[int, float, int]:
    first = worker_pid(after=0.0)
    gone = seconds_until_gone(pid=first, limit=limit)
    return first, gone, worker_pid(after=gone)


# --- a worker killed mid-task ----------------------------------------------------------------


def _die_once(x: int, marker: str) -> int:
    """Kill this very process the first time (``marker`` records which pid died), then succeed."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    return x * 10


@fragile.task
def die_once(x: int, marker: str) -> int:
    return _die_once(x, marker)


@workflow
def killed_once(x: int, marker: str) -> int:
    return die_once(x=x, marker=marker)


@fragile.task
def die_once_at_three(x: int, marker: str) -> int:
    return _die_once(x, marker) if x == 3 else x * 10


@workflow
def killed_once_in_a_map(xs: list[int], marker: str) -> list[int]:
    return map_task(die_once_at_three)(x=xs, marker=marker)


@fragile.task
def die_always(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


@workflow
def killed_always(x: int) -> int:
    return die_always(x=x)


# --- failures, retries and timeouts read as a plain task's ------------------------------------


def _fail(counter: str) -> int:
    calls = bump(counter)
    raise RuntimeError(f"bad call {calls}")


@fleet.task(retries=2)
def failing(counter: str) -> int:
    return _fail(counter)


@task(retries=2)
def failing_plain(counter: str) -> int:
    return _fail(counter)


@workflow
def fails(counter: str) -> int:
    return failing(counter=counter)


@workflow
def fails_plain(counter: str) -> int:
    return failing_plain(counter=counter)


@fleet.task(timeout=1)
def sleepy(seconds: float) -> int:
    time.sleep(seconds)
    return 1


@task(timeout=1)
def sleepy_plain(seconds: float) -> int:
    time.sleep(seconds)
    return 1


@workflow
def sleeps(seconds: float) -> int:
    return sleepy(seconds=seconds)


@workflow
def sleeps_plain(seconds: float) -> int:
    return sleepy_plain(seconds=seconds)


@fleet.task(cache=True, cache_version="1")
def cached_square(x: int, counter: str) -> int:
    bump(counter)
    return x * x


@workflow
def squares_cached(xs: list[int], counter: str) -> tuple[int, list[int]]:
    return cached_square(x=-1, counter=counter), map_task(cached_square)(x=xs, counter=counter)


@fleet.task
def home_seen(x: int) -> str:
    return os.environ.get("STRATOFLOW_HOME", "")


@workflow
def homes(xs: list[int]) -> tuple[str, list[str]]:
    return home_seen(x=-1), map_task(home_seen)(x=xs)


@fleet.task
def write_note(text: str) -> File:
    path = scratch_dir() / "note.txt"
    path.write_text(text, encoding="utf-8")
    return File(path)


@task
def read_notes(files: list[File]) -> str:
    parts = []
    for f in files:
        with f.open(encoding="utf-8") as handle:
            parts.append(handle.read())
    return "|".join(parts)


@workflow
def notes(texts: list[str]) -> tuple[str, File]:
    return read_notes(files=map_task(write_note)(text=texts)), write_note(text="single")


@fleet.task(cache=True, cache_version="1", cache_serialize=True)
def computed_once(x: int, counter: str) -> int:
    bump(counter)
    time.sleep(0.3)  # long enough that a second worker would start on the same key meanwhile
    return x * 3


@workflow
def same_key_twice(x: int, counter: str) -> tuple[int, int]:
    return computed_once(x=x, counter=counter), computed_once(x=x, counter=counter)
