"""The workflow the UI tests run: a fan-out and a check that fails when its limit is low."""

from __future__ import annotations

import threading

from stratoflow import conditional, map_task, task, workflow

# Set by the browser test once it has the running run on screen (tasks run in threads of its process).
RELEASE = threading.Event()


@task
def held(n: int) -> int:
    RELEASE.wait(timeout=20)
    return n


@task
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def check(value: int, limit: int) -> int:
    print(f"checking {value} against {limit}")
    if value > limit:
        raise ValueError(f"total {value} is over the limit {limit}")
    return value


@workflow
def squares(n: int = 3, limit: int = 100) -> int:
    return check(value=total(values=map_task(square)(x=numbers(n=n))), limit=limit)


@workflow
def held_squares(n: int = 3) -> int:
    """Waits in its first node until RELEASE is set, so a page can watch it run."""
    return total(values=map_task(square)(x=numbers(n=held(n=n))))


@task
def plus(a: int, b: int) -> int:
    return a + b


@workflow
def diamond(x: int) -> int:
    """Two nodes in parallel between a first and a last."""
    start = plus(a=x, b=1)
    return plus(a=plus(a=start, b=2), b=plus(a=start, b=3))


@workflow
def branchy(x: int) -> int:
    """A conditional whose cases call tasks, read by a node after it."""
    first = plus(a=x, b=0)
    picked = conditional("sign").if_(first > 0).then(square(x=first)).else_().then(plus(a=first, b=-1))
    return plus(a=picked, b=1)


@task(cache=True, cache_version="1")
def doubled(x: int) -> int:
    return 2 * x


@workflow
def cached_double(x: int) -> int:
    return doubled(x=x)
