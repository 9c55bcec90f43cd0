"""A map_task over a Lambda task: prepare, Distributed Map over item indices, gather."""

from stratoflow.define import map_task, task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def map_lambda(xs: list[int]) -> list[int]:
    doubled: list[int] = map_task(double)(x=xs)
    return doubled


WORKFLOW = map_lambda
