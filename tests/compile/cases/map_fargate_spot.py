"""An interruptible map over a Fargate task, with concurrency, batch_size, retries and a timeout.

Each batch runs on Fargate Spot (retried there), its last attempt on on-demand Fargate; the
batch's TimeoutSecondsPath comes from map_prepare (size x per-item worst case).
"""

from datetime import timedelta

from stratoflow.define import Resources, map_task, task, workflow


@task(requests=Resources(mem="12Gi"), interruptible=True, retries=1, timeout=timedelta(minutes=20))
def predict(x: int) -> int:
    return x + 1


@workflow
def map_fargate_spot(xs: list[int]) -> list[int | None]:
    predicted: list[int | None] = map_task(predict, concurrency=20, min_success_ratio=0.9, batch_size=10)(
        x=xs
    )
    return predicted


WORKFLOW = map_fargate_spot
