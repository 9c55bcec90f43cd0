"""Workflows with Flyte's gates, run locally and on emulated AWS by tests/emulated/test_gates_e2e.py."""

from __future__ import annotations

from datetime import timedelta

from stratoflow import approve, sleep, task, wait_for_input, workflow


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
