"""The records parity workflow on containers: a cached Fargate node, a retried Fargate Spot node, a
Fargate map with a failed item (tolerated), and a skipped case (module level: task refs are
'module:qualname'). ``tests.local._record_flows.recorded`` is the same shape on Lambda."""

from __future__ import annotations

from stratoflow import Resources, conditional, current_context, map_task, task, workflow

BIG = Resources(mem="12Gi")  # more than Lambda's 10 GB: Fargate


@task(cache=True, cache_version="1", requests=BIG)
def spread_big(n: int) -> list[int]:
    return list(range(n))


@task(retries=2, requests=BIG, interruptible=True)
def flaky_big(n: int) -> int:
    """Fails its first attempt of every run (on Spot), then succeeds (Spot again: 2 retries)."""
    if current_context().attempt == 1:
        raise RuntimeError(f"first attempt of flaky_big({n}) fails on purpose")
    return n


@task(requests=BIG)
def shout_big(x: int) -> int:
    if x == 2:
        raise ValueError(f"two is not allowed (x={x})")
    return x * 10


@task
def add_up(values: list[int | None], extra: int) -> int:
    return sum(v for v in values if v is not None) + extra


@task
def keep_it(n: int) -> int:
    return n


@task
def negate_it(n: int) -> int:
    return -n


@workflow
def recorded_big(n: int = 4) -> int:
    """spread_big (cached) -> map shout_big (item 2 fails, tolerated) -> add_up; flaky_big retried."""
    items = spread_big(n=n)
    shouted = map_task(shout_big, batch_size=2, min_success_ratio=0.5)(x=items)
    retried = flaky_big(n=n)
    total = add_up(values=shouted, extra=retried)
    return conditional("sign").if_(n > 0).then(keep_it(n=total)).else_().then(negate_it(n=total))


@task(enable_deck=True)
def report(n: int) -> int:
    current_context().default_deck.append(f"<p>n is {n}</p>")
    return n


@task
def plain(n: int) -> int:
    return n + 1


@workflow
def decked(n: int = 2) -> int:
    """One task that writes a deck page, one that does not."""
    return plain(n=report(n=n))
