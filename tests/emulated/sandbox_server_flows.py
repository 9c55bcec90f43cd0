"""A workflow that takes its time: for Ctrl-C while the sandbox server runs it."""

from __future__ import annotations

import time

from stratoflow import task, workflow


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@workflow
def napping(seconds: float = 60.0) -> float:
    return nap(seconds=seconds)
