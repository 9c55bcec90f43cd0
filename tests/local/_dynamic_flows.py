"""``@dynamic`` flows shared by the local and emulated tests (tasks must be importable by ref).

Tasks that count their calls append to ``marker`` (an input the cache ignores).
"""

from __future__ import annotations

import os
import time

from stratoflow import Resources, dynamic, map_task, task, workflow


def ran(marker: str) -> None:
    if marker:
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def label(x: int, text: str) -> str:
    return f"{text}:{x}"


@dynamic
def sum_of_squares(xs: list[int]) -> int:
    """A loop over a run-time list: one task per element, then a sum."""
    return total(values=[square(x=x) for x in xs])


@workflow
def squares(xs: list[int]) -> int:
    return sum_of_squares(xs=xs)


@dynamic
def classify(x: int) -> str:
    """An ``if`` on a run-time value picks which tasks run."""
    if x > 10:
        return label(x=square(x=x), text="big")
    return label(x=add(a=x, b=1), text="small")


@workflow
def classified(x: int) -> str:
    return classify(x=x)


@workflow
def doubled_then_classified(x: int) -> str:
    return classify(x=add(a=x, b=x))


@dynamic
def mapped_chunks(n: int) -> list[int]:
    """A map_task inside a dynamic body, over a list built from the run-time value."""
    return map_task(square)(x=list(range(n)))


@workflow
def mapped(n: int) -> list[int]:
    return mapped_chunks(n=n)


@dynamic
def mapped_batches(n: int) -> list[int]:
    """A map_task inside a dynamic body, in batches of 10 (on AWS: one child execution each)."""
    return map_task(square, batch_size=10)(x=list(range(n)))


@workflow
def mapped_in_batches(n: int) -> list[int]:
    return mapped_batches(n=n)


@task(cache=True, cache_ignore_input_vars=("marker",))
def cached_square(x: int, marker: str) -> int:
    ran(marker)
    return x * x


@dynamic(cache=True, cache_ignore_input_vars=("marker",))
def cached_fanout(xs: list[int], marker: str) -> int:
    ran(marker + ".body")
    return total(values=[cached_square(x=x, marker=marker) for x in xs])


@workflow
def cached_flow(xs: list[int], marker: str) -> int:
    return cached_fanout(xs=xs, marker=marker)


@dynamic
def broken_body(x: int) -> int:
    if x > 0:
        raise ValueError(f"no positive values, got {x}")
    return square(x=x)


@workflow
def broken(x: int) -> int:
    return broken_body(x=x)


@task
def fails(x: int) -> int:
    raise RuntimeError(f"inner task failed on {x}")


@dynamic
def failing_inside(x: int) -> int:
    return fails(x=square(x=x))


@workflow
def broken_inside(x: int) -> int:
    return failing_inside(x=x)


@dynamic
def misuses_promise(x: int) -> int:
    y = square(x=x)
    if y > 3:  # a promise: its value does not exist while the body runs
        return y
    return x


@workflow
def misused(x: int) -> int:
    return misuses_promise(x=x)


@workflow
def inner(xs: list[int]) -> int:
    return add(a=sum_of_squares(xs=xs), b=1)


@workflow
def outer(xs: list[int]) -> int:
    return inner(xs=xs)


@dynamic
def nested_dynamic(xs: list[int]) -> int:
    """A dynamic calling a dynamic (and a sub-workflow) with a value computed from its inputs."""
    return add(a=sum_of_squares(xs=xs), b=inner(xs=[len(xs)]))


@workflow
def nested(xs: list[int]) -> int:
    return nested_dynamic(xs=xs)


@dynamic
def pair(x: int) -> tuple[int, str]:
    return square(x=x), "constant"


@workflow
def paired(x: int) -> tuple[int, str]:
    return pair(x=x)


@dynamic
def fib(n: int = 8) -> int:
    """A recursive @dynamic: each call builds a graph holding two smaller calls of itself."""
    if n < 2:
        return add(a=n, b=0)
    return add(a=fib(n=n - 1), b=fib(n=n - 2))


@workflow
def fibonacci(n: int = 8) -> int:
    return fib(n=n)


@task(requests=Resources(mem="12Gi"))
def big_square(x: int) -> int:
    """Routed to Fargate (over Lambda's 10 GB)."""
    return x * x


@task(requests=Resources(mem="12Gi"), interruptible=True)
def spot_square(x: int) -> int:
    """Routed to Fargate Spot."""
    return x * x


@task(requests=Resources(gpu=1))
def gpu_square(x: int) -> int:
    """Routed to AWS Batch (a GPU)."""
    return x * x


@dynamic
def heavy(n: int) -> int:
    """Fargate, Fargate Spot and Batch tasks and a map inside one dynamic graph."""
    mapped = map_task(square)(x=list(range(n)))
    return add(
        a=add(a=big_square(x=n), b=spot_square(x=n)),
        b=add(a=gpu_square(x=n), b=total(values=mapped)),
    )


@workflow
def heavy_flow(n: int) -> int:
    return heavy(n=n)


@dynamic
def container_map(n: int) -> list[int]:
    """A map_task over a Fargate task inside a dynamic body (on AWS: each batch in one container)."""
    return map_task(big_square)(x=list(range(n)))


@workflow
def container_mapped(n: int) -> list[int]:
    return container_map(n=n)


@dynamic
def spot_map(n: int) -> list[int]:
    """Over a Fargate Spot task, in batches of 2 (on AWS: a reclaimed batch reruns on on-demand)."""
    return map_task(spot_square, batch_size=2)(x=list(range(n)))


@workflow
def spot_mapped(n: int) -> list[int]:
    return spot_map(n=n)


@dynamic
def gpu_map(n: int) -> list[int]:
    """A map_task over a GPU task inside a dynamic body (on AWS: each batch of items one Batch job)."""
    return map_task(gpu_square)(x=list(range(n)))


@workflow
def gpu_mapped(n: int) -> list[int]:
    return gpu_map(n=n)


@task(requests=Resources(mem="12Gi"), timeout=60, retries=1)
def timed_big_square(x: int) -> int:
    return x * x


@dynamic
def timed_container_map(n: int) -> list[int]:
    """Over a Fargate task with a timeout: on AWS each batch runs under its time limit."""
    return map_task(timed_big_square, batch_size=2)(x=list(range(n)))


@workflow
def timed_container_mapped(n: int) -> list[int]:
    return timed_container_map(n=n)


@task(requests=Resources(mem="12Gi"), retries=1)
def big_square_of_even(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd item {x}")
    return x * x


@dynamic
def lenient_container_map(n: int, ratio: float) -> list[int | None]:
    """A Fargate map whose odd items fail: a ratio they meet gives None for them, one they miss fails."""
    return map_task(big_square_of_even, min_success_ratio=ratio, batch_size=3)(x=list(range(n)))


@workflow
def lenient_container_mapped(n: int, ratio: float) -> list[int | None]:
    return lenient_container_map(n=n, ratio=ratio)


ORDER: list[str] = []


@task
def slow_first() -> int:
    """Slow, so a node not made to wait for it would start (and finish) first."""
    time.sleep(0.3)
    ORDER.append("first")
    return 1


@task
def quick_second() -> int:
    ORDER.append("second")
    return 2


@dynamic
def ordered(n: int) -> int:
    """`>>` inside a dynamic body: quick_second reads nothing from slow_first, yet waits for it."""
    first = slow_first()
    second = quick_second()
    first >> second
    return second


@workflow
def ordered_flow(n: int) -> int:
    return ordered(n=n)
