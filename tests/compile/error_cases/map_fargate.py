"""A map_task over a task too big for Lambda: its items would need ecs:runTask.sync in EXPRESS children."""

from stratoflow.define import Resources, map_task, task, workflow


@task(requests=Resources(cpu=8, mem="32Gi"))
def train(x: int) -> int:
    return 2 * x


@workflow
def map_fargate(xs: list[int]) -> list[int]:
    trained: list[int] = map_task(train)(x=xs)
    return trained
