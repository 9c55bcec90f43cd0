"""A map_task, which the ASL compiler does not handle yet."""

from stratoflow.define import map_task, task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def map_workflow(xs: list[int]) -> list[int]:
    doubled: list[int] = map_task(double)(x=xs)
    return doubled
