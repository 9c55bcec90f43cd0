"""AWS Batch: a cached GPU task, an interruptible GPU task (Spot, last attempt on-demand), an A100 task,
an oversize task."""

from datetime import timedelta

from stratoflow import accelerators
from stratoflow.define import Resources, task, workflow


@task(requests=Resources(cpu=4, mem="16Gi", gpu=1), cache=True, cache_version="1")
def embed(x: int) -> int:
    return x + 1


@task(requests=Resources(gpu=1), interruptible=True, retries=2, timeout=timedelta(hours=3))
def finetune(x: int) -> int:
    return x * 2


@task(requests=Resources(cpu=8, mem="64Gi", gpu=2), accelerator=accelerators.A100)
def pretrain(x: int) -> int:
    return x - 1


@task(requests=Resources(cpu=32, mem="256Gi"))
def join(x: int, y: int, z: int) -> int:
    return x + y + z


@workflow
def batch(x: int) -> int:
    return join(x=embed(x=x), y=finetune(x=x), z=pretrain(x=x))


WORKFLOW = batch
