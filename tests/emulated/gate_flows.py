"""Workflows with Flyte's gates, run locally and on emulated AWS by tests/emulated/test_gates_e2e.py."""

from __future__ import annotations

from datetime import timedelta

from stratoflow import approve, dynamic, sleep, task, wait_for_input, workflow


@task
def double(n: int) -> int:
    return n * 2


@task
def publish(n: int) -> str:
    return f"published {n}"


@workflow
def napping(n: int) -> int:
    first = double(n=n)
    nap = sleep(timedelta(seconds=1))
    second = double(n=first)
    first >> nap
    nap >> second
    return second


@workflow
def asks(n: int) -> int:
    factor = wait_for_input("factor", timeout=timedelta(seconds=20), expected_type=int)
    return double(n=double(n=factor))


@workflow
def asks_briefly() -> int:
    return double(n=wait_for_input("factor", timeout=timedelta(seconds=1), expected_type=int))


@workflow
def gated(n: int) -> str:
    return publish(n=approve(double(n=n), "deploy", timeout=timedelta(seconds=20)))


@task
def times(n: int, factor: int) -> int:
    return n * factor


@dynamic
def plan_with_gates(n: int) -> str:
    nap = sleep(timedelta(seconds=1))
    first = double(n=n)
    nap >> first
    factor = wait_for_input("factor", timeout=timedelta(seconds=30), expected_type=int)
    return publish(n=approve(times(n=first, factor=factor), "deploy", timeout=timedelta(seconds=30)))


@workflow
def dynamic_gates(n: int) -> str:
    return plan_with_gates(n=n)


@dynamic
def plan_briefly(n: int) -> int:
    return times(n=n, factor=wait_for_input("factor", timeout=timedelta(seconds=1), expected_type=int))


@workflow
def dynamic_asks_briefly(n: int) -> int:
    return plan_briefly(n=n)
