"""A map_task over a task too big for Lambda: STANDARD children, one batch per ecs:runTask.sync.

No batch_size: map_prepare chooses it at run time (ItemBatcher.MaxItemsPerBatchPath).
"""

from stratoflow.define import Resources, map_task, task, workflow


@task(requests=Resources(cpu=8, mem="32Gi"))
def train(x: int) -> int:
    return 2 * x


@workflow
def map_fargate(xs: list[int]) -> list[int]:
    trained: list[int] = map_task(train)(x=xs)
    return trained


WORKFLOW = map_fargate
