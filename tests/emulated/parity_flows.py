"""Workflows that fail the same way locally and on emulated AWS (for the message parity tests)."""

from __future__ import annotations

import time
from datetime import timedelta

from stratoflow import Resources, dynamic, map_task, task, workflow


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


@task
def upto(x: int) -> list[int]:
    return list(range(x + 1))


@task(retries=2)
def item_fails(x: int) -> int:
    if x == 3:
        raise BadRecordError(f"record {x} is malformed")
    return x


@workflow
def map_item_fails(x: int) -> list[int]:
    return map_task(item_fails)(x=upto(x=x))


@task(retries=1, requests=Resources(cpu=8, mem="32Gi"))
def container_item_fails(x: int) -> int:
    if x == 3:
        raise BadRecordError(f"record {x} is malformed")
    return x


@workflow
def container_map_item_fails(x: int) -> list[int]:
    return map_task(container_item_fails)(x=upto(x=x))


@dynamic
def fails_inside(x: int) -> int:
    return always_fails(x=x)


@workflow
def dag_node_fails(x: int) -> int:
    return fails_inside(x=x)


@dynamic
def container_fails_inside(x: int) -> int:
    return container_fails(x=x)


@workflow
def container_dag_node_fails(x: int) -> int:
    return container_fails_inside(x=x)


@dynamic
def maps_inside(x: int) -> list[int]:
    return map_task(item_fails)(x=list(range(x + 1)))


@workflow
def dag_map_item_fails(x: int) -> list[int]:
    return maps_inside(x=x)


@dynamic
def container_maps_inside(x: int) -> list[int]:
    return map_task(container_item_fails)(x=list(range(x + 1)))


@workflow
def dag_container_map_item_fails(x: int) -> list[int]:
    return container_maps_inside(x=x)


@dynamic
def sleeps_inside(x: int) -> int:
    return sleepy(x=x)


@workflow
def dag_times_out(x: int) -> int:
    """A timeout inside a dynamic graph: its node runs in the runner, which keeps the timeout."""
    return sleeps_inside(x=x)
