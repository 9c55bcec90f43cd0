"""AWS Batch: a cached GPU task, an interruptible GPU task (Spot, last attempt on-demand), an oversize task."""

from datetime import timedelta

from stratoflow.define import Resources, task, workflow


@task(requests=Resources(cpu=4, mem="16Gi", gpu=1), cache=True, cache_version="1")
def embed(x: int) -> int:
    return x + 1


@task(requests=Resources(gpu=1), interruptible=True, retries=2, timeout=timedelta(hours=3))
def finetune(x: int) -> int:
    return x * 2


@task(requests=Resources(cpu=32, mem="256Gi"))
def join(x: int, y: int) -> int:
    return x + y


@workflow
def batch(x: int) -> int:
    return join(x=embed(x=x), y=finetune(x=x))


WORKFLOW = batch
