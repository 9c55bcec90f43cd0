"""A three-way conditional: a case with two parallel tasks, a nested conditional on Fargate, a .fail()."""

from stratoflow import conditional
from stratoflow.define import Resources, task, workflow


@task
def score(x: int) -> int:
    return x


@task
def add(a: int, b: int) -> int:
    return a + b


@task(requests=Resources(cpu=8, mem="32Gi"), cache=True, cache_version="1")
def big(x: int) -> int:
    return x * 2


@workflow
def branching(x: int) -> int:
    s = score(x=x)
    picked = (
        conditional("pick")
        .if_((s > 0) & (s < 10))
        .then(add(a=score(x=1), b=score(x=2)))
        .elif_(s >= 10)
        .then(conditional("size").if_(x == 10).then(big(x=s)).else_().then(add(a=s, b=x)))
        .else_()
        .fail("x must be positive")
    )
    return add(a=picked, b=s)


WORKFLOW = branching
