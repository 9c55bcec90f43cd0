"""A task too big for Lambda (8 vCPU, 32 GiB) runs on Fargate, after a cache check."""

from stratoflow.define import Resources, task, workflow


@task
def prepare(x: int) -> int:
    return x


@task(requests=Resources(cpu=8, mem="32Gi"), cache=True, cache_version="1", retries=1)
def train(x: int) -> int:
    return x * 2


@workflow
def fargate(x: int) -> int:
    return train(x=prepare(x=x))


WORKFLOW = fargate
