"""Flyte's gates: a sleep (Wait), a wait_for_input and an approve (waitForTaskToken + finish)."""

from datetime import timedelta

from stratoflow import approve, sleep, wait_for_input
from stratoflow.define import task, workflow


@task
def train(x: int) -> int:
    return x * 2


@task
def publish(model: int, note: str) -> str:
    return f"{note}: {model}"


@workflow
def gates(x: int) -> str:
    model = train(x=x)
    nap = sleep(timedelta(minutes=5))
    model >> nap
    note = wait_for_input("note", timeout=timedelta(hours=1), expected_type=str)
    approved = approve(model, "release", timeout=timedelta(days=1))
    nap >> approved
    return publish(model=approved, note=note)


WORKFLOW = gates
