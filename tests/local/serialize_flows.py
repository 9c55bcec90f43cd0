"""Four sibling nodes asking for the same cached value at the same moment."""

from __future__ import annotations

import threading
import time

from stratoflow import task, workflow

CALLS: list[int] = []
_LOCK = threading.Lock()


@task(cache=True, cache_version="1", cache_serialize=True)
def expensive(x: int) -> int:
    with _LOCK:
        CALLS.append(x)
    time.sleep(0.2)  # long enough that unserialised siblings would all miss the cache
    return x * x


@task
def total(a: int, b: int, c: int, d: int) -> int:
    return a + b + c + d


@workflow
def four_at_once(x: int) -> int:
    return total(a=expensive(x=x), b=expensive(x=x), c=expensive(x=x), d=expensive(x=x))
