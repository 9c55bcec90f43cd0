"""A module whose @dynamic bodies call a Lambda task, a Fargate task, themselves and map a Fargate
task: what the deployed-stack test (``test_dynamic_stack_e2e.py``) creates in moto's CloudFormation."""

from __future__ import annotations

from stratoflow import Resources, dynamic, map_task, task, workflow


@task
def add(a: int, b: int) -> int:
    return a + b


@task(requests=Resources(mem="12Gi"))
def big_square(x: int) -> int:
    return x * x


@dynamic
def fib(n: int) -> int:
    if n < 2:
        return add(a=n, b=0)
    return add(a=fib(n=n - 1), b=fib(n=n - 2))


@dynamic
def squares_then_fib(n: int) -> int:
    return add(a=big_square(x=n), b=fib(n=n))


@workflow
def dynamic_stack(n: int = 5) -> int:
    return squares_then_fib(n=n)


@task(requests=Resources(cpu="4", mem="16Gi"))
def heavy(x: int) -> int:
    return x * 2


@dynamic
def fan(n: int) -> list[int]:
    """A map over a Fargate task: each batch of items in one container of the task's size."""
    return map_task(heavy)(x=list(range(n)))


@workflow
def fanned(n: int = 3) -> list[int]:
    return fan(n=n)
