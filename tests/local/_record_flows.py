"""A workflow whose run has every kind of node record: a cached node, a retried node, a failed map
item (the map tolerates it), a skipped case, and tasks that print and log. Used by the local
record tests and the CLI tests (module level: task refs are 'module:qualname')."""

from __future__ import annotations

import sys

from stratoflow import ActorEnvironment, conditional, current_context, dynamic, map_task, task, workflow


@task(cache=True, cache_version="1")
def spread(n: int) -> list[int]:
    print(f"spreading {n}")
    return list(range(n))


@task(retries=2)
def flaky(n: int) -> int:
    """Fails its first attempt of every run, then succeeds."""
    if current_context().attempt == 1:
        raise RuntimeError(f"first attempt of flaky({n}) fails on purpose")
    return n


@task
def shout(x: int) -> int:
    """A map item: prints, logs, and fails for x == 2."""
    print(f"item says {x}")
    current_context().logging.info("item logs %s", x)
    if x == 2:
        raise ValueError(f"two is not allowed (x={x})")
    return x * 10


@task
def add(values: list[int | None], extra: int) -> int:
    print("adding up", file=sys.stderr)
    return sum(v for v in values if v is not None) + extra


@task
def keep(n: int) -> int:
    return n


@task
def negate(n: int) -> int:
    return -n


@workflow
def recorded(n: int = 4) -> int:
    """spread (cached) -> map shout (item 2 fails, tolerated) -> add; flaky retried; a conditional."""
    items = spread(n=n)
    shouted = map_task(shout, min_success_ratio=0.5)(x=items)
    retried = flaky(n=n)
    total = add(values=shouted, extra=retried)
    return conditional("sign").if_(n > 0).then(keep(n=total)).else_().then(negate(n=total))


@task
def boom(n: int) -> int:
    raise KeyError(f"no key {n}")


@task
def after(n: int) -> int:
    return n


@workflow
def failing(n: int = 1) -> int:
    """boom fails, so after is never reached."""
    return after(n=boom(n=n))


@dynamic
def fan(n: int) -> int:
    return add(values=map_task(shout)(x=spread(n=n)), extra=0)


@workflow
def with_dynamic(n: int = 2) -> int:
    """A @dynamic whose sub-workflow's nodes are recorded as '<dynamic node>/<child>'."""
    return fan(n=n)


@task(cache=True, cache_version="1")
def cached_square(x: int) -> int:
    return x * x


@workflow
def cached_items(n: int = 3) -> list[int]:
    """A map whose items are cached one by one."""
    return map_task(cached_square)(x=spread(n=n))


crew = ActorEnvironment(name="crew", replica_count=1, ttl_seconds=30)


@crew.task
def on_actor(x: int) -> int:
    print(f"actor item {x}")
    return x + 1


@workflow
def on_actors(n: int = 2) -> list[int]:
    """One actor node and a map of actor items, on the 'crew' environment's worker."""
    return map_task(on_actor)(x=spread(n=on_actor(x=n)))
