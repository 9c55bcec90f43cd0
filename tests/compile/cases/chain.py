"""Three tasks in a row: a -> b -> c."""

from stratoflow.define import task, workflow


@task
def first(x: int) -> int:
    return x + 1


@task
def second(x: int) -> int:
    return x * 2


@task
def third(x: int) -> int:
    return x - 3


@workflow
def chain(x: int) -> int:
    return third(x=second(x=first(x=x)))


WORKFLOW = chain
