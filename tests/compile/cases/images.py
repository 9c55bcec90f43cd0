"""Tasks with their own images: a Lambda task and a Lambda map on their image's function, a
Fargate (Spot) task and a Batch task on their image's task / job definition, beside a task
without an image on the shared runner."""

from stratoflow import ImageSpec
from stratoflow.define import Resources, map_task, task, workflow

TRAINER = ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"], apt_packages=["libgomp1"])
GPU = ImageSpec(name="gpu", base_image="nvidia/cuda:12.4.1-runtime-ubuntu22.04", packages=["torch==2.5.1"])


@task(container_image=TRAINER)
def split(n: int) -> list[int]:
    return list(range(n))


@task(container_image=TRAINER)
def score(x: int) -> int:
    return x * x


@task(container_image=TRAINER, requests=Resources(cpu=4, mem="16Gi"), interruptible=True, retries=1)
def fit(xs: list[int]) -> int:
    return sum(xs)


@task(container_image=GPU, requests=Resources(gpu=1))
def tune(fitted: int) -> int:
    return fitted


@task
def report(tuned: int, scores: list[int]) -> str:
    return f"{tuned} {sum(scores)}"


@workflow
def images(n: int) -> str:
    xs = split(n=n)
    return report(tuned=tune(fitted=fit(xs=xs)), scores=map_task(score)(x=xs))


WORKFLOW = images
