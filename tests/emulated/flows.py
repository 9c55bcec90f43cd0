"""Workflows the emulated end-to-end tests deploy. Calls are counted per task, in-process."""

from __future__ import annotations

import collections
import threading
from datetime import timedelta

from stratoflow import Resources, task, workflow

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def _count(name: str) -> int:
    with _LOCK:
        CALLS[name] += 1
        return CALLS[name]


@task(cache=True, cache_version="1")
def double(x: int) -> int:
    _count("double")
    return 2 * x


@task(cache=True, cache_version="1")
def increment(x: int) -> int:
    _count("increment")
    return x + 1


@task(cache=True, cache_version="1")
def combine(a: int, b: int) -> str:
    _count("combine")
    return f"{a}+{b}"


@workflow
def diamond(x: int) -> str:
    d = double(x=x)
    return combine(a=increment(x=d), b=double(x=d))


class FlakyError(RuntimeError):
    """Raised by `flaky` on its first two attempts."""


@task(retries=2)
def flaky(key: str) -> str:
    attempt = _count(f"flaky:{key}")
    if attempt <= 2:
        raise FlakyError(f"attempt {attempt} of {key} fails")
    return f"{key} ok after {attempt}"


@workflow
def flaky_flow(key: str) -> str:
    return flaky(key=key)


class BrokenPipelineError(ValueError):
    """Always raised by `always_fails`."""


@task(retries=1)
def always_fails(x: int) -> int:
    _count("always_fails")
    raise BrokenPipelineError(f"cannot handle {x}")


@workflow
def failing_flow(x: int) -> int:
    return always_fails(x=x)


@task
def big_blob(megabytes: int) -> str:
    return "x" * (megabytes * 1024 * 1024)


@task
def measure(text: str) -> int:
    return len(text)


@workflow
def big_flow(megabytes: int) -> int:
    return measure(text=big_blob(megabytes=megabytes))


@task(cache=True, cache_version="1", requests=Resources(cpu=8, mem="32Gi"), timeout=timedelta(hours=1))
def heavy(x: int) -> int:
    _count("heavy")
    return x * 10


@workflow
def fargate_flow(x: int) -> int:
    return increment(x=heavy(x=x))


@task(requests=Resources(cpu=8, mem="32Gi"), interruptible=True, retries=2)
def spot_train(x: int) -> int:
    _count("spot_train")
    return x * 3


@workflow
def spot_flow(x: int) -> int:
    return spot_train(x=x)


@task(requests=Resources(cpu=8, mem="32Gi"), interruptible=True, retries=1)
def spot_fails(x: int) -> int:
    _count("spot_fails")
    raise BrokenPipelineError(f"spot task cannot handle {x}")


@workflow
def spot_failing_flow(x: int) -> int:
    return spot_fails(x=x)
