"""Workflows routed to AWS Batch (GPU, interruptible GPU, oversize). Calls are counted per task."""

from __future__ import annotations

import collections
import threading

from stratoflow import Resources, task, workflow

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def _count(name: str) -> None:
    with _LOCK:
        CALLS[name] += 1


class ModelDivergedError(Exception):
    """An application failure inside a Batch job."""


@task(requests=Resources(cpu=4, mem="16Gi", gpu=1))
def gpu_embed(texts: list[str]) -> list[int]:
    _count("gpu_embed")
    return [len(t) for t in texts]


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def gpu_flow(texts: list[str]) -> int:
    return total(values=gpu_embed(texts=texts))


@task(requests=Resources(gpu=1), interruptible=True)
def gpu_finetune(x: int) -> int:
    _count("gpu_finetune")
    return x * 7


@workflow
def gpu_spot_flow(x: int) -> int:
    return gpu_finetune(x=x)


@task(requests=Resources(gpu=1), interruptible=True, retries=2)
def gpu_finetune_retried(x: int) -> int:
    _count("gpu_finetune_retried")
    return x * 11


@workflow
def gpu_spot_retried_flow(x: int) -> int:
    return gpu_finetune_retried(x=x)


@task(requests=Resources(gpu=1), interruptible=True, retries=1)
def gpu_diverges(x: int) -> int:
    _count("gpu_diverges")
    raise ModelDivergedError(f"loss is NaN for {x}")


@workflow
def gpu_failing_flow(x: int) -> int:
    return gpu_diverges(x=x)


@task(requests=Resources(cpu=32, mem="130Gi"))
def big_join(x: int) -> int:
    _count("big_join")
    return x + 1


@workflow
def oversize_flow(x: int) -> int:
    return big_join(x=x)
