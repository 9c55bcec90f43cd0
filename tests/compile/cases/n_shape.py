"""The smallest DAG that is not series-parallel: a -> c, b -> c, b -> d."""

from stratoflow.define import task, workflow


@task
def a(x: int) -> int:
    return x


@task
def b(x: int) -> int:
    return x + 1


@task
def c(p: int, q: int) -> int:
    return p + q


@task
def d(q: int) -> int:
    return q * 2


@workflow
def n_shape(x: int) -> tuple[int, int]:
    pa = a(x=x)
    pb = b(x=x)
    return c(p=pa, q=pb), d(q=pb)


WORKFLOW = n_shape
