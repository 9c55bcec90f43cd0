"""Flyte's failure handling: an on_failure task (on Fargate, reading the error) and FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
over nested parallel branches."""

from typing import Optional

from stratoflow import FlyteError, WorkflowFailurePolicy
from stratoflow.define import Resources, task, workflow


@task
def step(x: int, i: int) -> int:
    return x + i


@task
def join(values: list[int]) -> int:
    return sum(values)


@task(requests=Resources(cpu=8, mem="32Gi"))
def clean_up(x: int, err: Optional[FlyteError] = None) -> None:  # noqa: UP045 - flytekit's spelling
    pass


@workflow(on_failure=clean_up, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
def failure_handling(x: int) -> int:
    a = step(x=x, i=1)
    b = step(x=x, i=2)
    c = join(values=[step(x=a, i=3), step(x=a, i=4)])
    return join(values=[b, c])


WORKFLOW = failure_handling
