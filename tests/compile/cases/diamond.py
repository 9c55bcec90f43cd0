"""a -> (b, c) -> d: b and c run in parallel."""

from stratoflow.define import task, workflow


@task
def source(x: int) -> int:
    return x


@task
def left(x: int) -> int:
    return x + 1


@task
def right(x: int) -> int:
    return x - 1


@task
def join(a: int, b: int) -> int:
    return a + b


@workflow
def diamond(x: int) -> int:
    s = source(x=x)
    return join(a=left(x=s), b=right(x=s))


WORKFLOW = diamond
