"""An interruptible 8 vCPU task: Fargate Spot, retried, last attempt on on-demand Fargate."""

from datetime import timedelta

from stratoflow.define import Resources, task, workflow


@task(requests=Resources(cpu=8), interruptible=True, retries=2, timeout=timedelta(hours=2))
def train(x: int) -> int:
    return x * 2


@workflow
def fargate_spot(x: int) -> int:
    return train(x=x)


WORKFLOW = fargate_spot
