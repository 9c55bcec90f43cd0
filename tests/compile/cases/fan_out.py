"""Five independent tasks, joined by one."""

from stratoflow.define import task, workflow


@task
def part(x: int, i: int) -> int:
    return x * i


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def fan_out(x: int) -> int:
    parts = [part(x=x, i=i) for i in range(5)]
    return total(values=parts)


WORKFLOW = fan_out
