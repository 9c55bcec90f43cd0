"""Workflows that fail the same way locally and on emulated AWS (for the message parity tests)."""

from __future__ import annotations

import time
from datetime import timedelta

from stratoflow import Resources, task, workflow


class BadRecordError(ValueError):
    """The user's own exception class: its name must reach the user everywhere."""


@task(retries=2)
def always_fails(x: int) -> int:
    raise BadRecordError(f"record {x} is malformed")


@workflow
def lambda_fails(x: int) -> int:
    return always_fails(x=x)


@task(retries=1, requests=Resources(cpu=8, mem="32Gi"))
def container_fails(x: int) -> int:
    raise BadRecordError(f"record {x} is malformed")


@workflow
def fargate_fails(x: int) -> int:
    return container_fails(x=x)


@task(retries=1, requests=Resources(cpu=8, mem="32Gi"), interruptible=True)
def spot_container_fails(x: int) -> int:
    raise BadRecordError(f"record {x} is malformed")


@workflow
def fargate_spot_fails(x: int) -> int:
    return spot_container_fails(x=x)


@task(retries=1, requests=Resources(cpu=1, mem="1Gi", gpu=1))
def gpu_fails(x: int) -> int:
    raise BadRecordError(f"record {x} is malformed")


@workflow
def batch_fails(x: int) -> int:
    return gpu_fails(x=x)


@task(retries=1, timeout=timedelta(seconds=1))
def sleepy(x: int) -> int:
    time.sleep(3)
    return x


@workflow
def times_out(x: int) -> int:
    return sleepy(x=x)
