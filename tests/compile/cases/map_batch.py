"""A map_task over a GPU task: STANDARD children, one batch per batch:submitJob.sync."""

from stratoflow.define import Resources, map_task, task, workflow


@task(requests=Resources(gpu=1))
def embed(x: int) -> int:
    return 2 * x


@workflow
def map_batch(xs: list[int]) -> list[int]:
    embedded: list[int] = map_task(embed)(x=xs)
    return embedded


WORKFLOW = map_batch
