"""A sub-workflow called twice from an outer workflow (inlined with prefixed node ids)."""

from stratoflow.define import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def twice(x: int) -> int:
    return inc(x=inc(x=x))


@workflow
def nested(x: int, y: int) -> int:
    return add(a=twice(x=x), b=twice(x=y))


WORKFLOW = nested
