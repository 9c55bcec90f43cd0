"""A cached @dynamic node between two tasks: plan, skip on a hit, startExecution.sync:2 of the
interpreter, finish."""

from stratoflow.define import dynamic, task, workflow


@task
def count_to(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@dynamic(cache=True, retries=1)
def squares(xs: list[int]) -> int:
    return total(values=[square(x=x) for x in xs])


@workflow
def dynamic_flow(n: int) -> int:
    return square(x=squares(xs=count_to(n=n)))


WORKFLOW = dynamic_flow
