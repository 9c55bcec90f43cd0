"""A map_task with a partial bound to an upstream output, concurrency, min_success_ratio, batch_size.

The map sits between two ordinary tasks and next to an independent one, so its three
states must form one chain inside a Parallel branch.
"""

import functools

from stratoflow import File
from stratoflow.define import map_task, task, workflow


@task
def load(path: str) -> File:
    return File(path)


@task(cache=True, cache_version="2", retries=2)
def score(chunk: str, model: File) -> float:
    return float(len(chunk))


@task
def describe(n: int) -> str:
    return str(n)


@task
def summarise(scores: list[float | None], note: str) -> float:
    return sum(s for s in scores if s is not None)


@workflow
def map_options(chunks: list[str], path: str, n: int) -> float:
    model = load(path=path)
    scores = map_task(
        functools.partial(score, model=model), concurrency=50, min_success_ratio=0.95, batch_size=7
    )(chunk=chunks)
    return summarise(scores=scores, note=describe(n=n))


WORKFLOW = map_options
