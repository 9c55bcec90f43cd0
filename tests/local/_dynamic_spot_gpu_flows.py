"""A map_task over an interruptible GPU task inside a @dynamic body (on AWS: each batch one job on
AWS Batch's Spot queue). A module of its own: the stack deploys a pool's Spot queue only for a
module with an interruptible task of that pool, which the infra tests of ``_dynamic_flows`` check."""

from __future__ import annotations

from stratoflow import Resources, dynamic, map_task, task, workflow


@task(requests=Resources(gpu=1), interruptible=True)
def spot_gpu_square(x: int) -> int:
    """Routed to AWS Batch's Spot queue (a GPU, interruptible)."""
    return x * x


@dynamic
def spot_gpu_map(n: int) -> list[int]:
    """Over a GPU Spot task, in batches of 2 (on AWS: a reclaimed batch reruns on the on-demand queue)."""
    return map_task(spot_gpu_square, batch_size=2)(x=list(range(n)))


@workflow
def spot_gpu_mapped(n: int) -> list[int]:
    return spot_gpu_map(n=n)
