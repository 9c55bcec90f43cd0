"""Maps over container tasks (Fargate, Fargate Spot, AWS Batch); user-function calls are counted per item.

``RECLAIM_AT`` holds the items whose first call reclaims the container mid-batch
(:class:`stratoflow.testing.ContainerReclaimed`): a test arms it for the emulated run only.
"""

from __future__ import annotations

import collections
import threading

from stratoflow import Resources, map_task, task, workflow
from stratoflow.testing import ContainerReclaimed

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()
RECLAIM_AT: set[int] = set()


class BadItemError(ValueError):
    """Raised for one item in twenty: 5% of a map's items fail."""


def _call(name: str, x: int) -> int:
    with _LOCK:
        CALLS[name] += 1
        CALLS[f"{name}[{x}]"] += 1
        reclaim = x in RECLAIM_AT
        RECLAIM_AT.discard(x)
    if reclaim:
        raise ContainerReclaimed(f"reclaimed while running item {x}")
    if x % 20 == 7:
        raise BadItemError(f"cannot predict {x}")
    return 3 * x


@task(requests=Resources(mem="12Gi"))
def predict(x: int) -> int:
    return _call("predict", x)


@workflow
def fargate_map(xs: list[int]) -> list[int | None]:
    out: list[int | None] = map_task(predict, batch_size=10, min_success_ratio=0.9)(x=xs)
    return out


@task(requests=Resources(mem="12Gi"), interruptible=True)
def predict_spot(x: int) -> int:
    return _call("predict_spot", x)


@workflow
def fargate_spot_map(xs: list[int]) -> list[int | None]:
    out: list[int | None] = map_task(predict_spot, batch_size=10, min_success_ratio=0.9)(x=xs)
    return out


@task(requests=Resources(gpu=1))
def embed(x: int) -> int:
    return _call("embed", x)


@workflow
def gpu_map(xs: list[int]) -> list[int | None]:
    """No batch_size: map_prepare chooses it (10 per container for 30 items)."""
    out: list[int | None] = map_task(embed, min_success_ratio=0.9)(x=xs)
    return out
