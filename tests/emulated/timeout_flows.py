"""A cached task that outlives its timeout (for the AWS deadline test)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from stratoflow import task, workflow

FINISHED = threading.Event()  # set when the slow body returns (the runner then decides what to write)


@task(cache=True, cache_version="1", timeout=timedelta(seconds=1))
def slow_cached(x: int) -> int:
    time.sleep(2.5)
    FINISHED.set()
    return x + 1


@workflow
def slow_flow(x: int) -> int:
    return slow_cached(x=x)
