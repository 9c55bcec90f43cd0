"""A small training-style pipeline: per-task resources, a map fan-out and an interruptible step.

On AWS: `split` and `score` fit Lambda; `train` asks for 8 vCPU / 32 GiB and is
interruptible, so it runs on Fargate Spot (last attempt on on-demand Fargate).

    stratoflow run examples/training.py training --parts 8
"""

from __future__ import annotations

import math
from datetime import timedelta

from stratoflow import Resources, map_task, task, workflow


@task(cache=True, cache_version="1")
def split(samples: int, parts: int) -> list[list[float]]:
    """Deterministic synthetic samples, split into ``parts`` chunks."""
    xs = [math.sin(i / 7.0) + (i % 5) / 10 for i in range(samples)]
    size = max(1, math.ceil(len(xs) / parts))
    return [xs[i : i + size] for i in range(0, len(xs), size)]


@task(requests=Resources(cpu=1, mem="512Mi"), retries=2)
def score(chunk: list[float]) -> float:
    """Mean squared value of one chunk."""
    return sum(x * x for x in chunk) / len(chunk)


@task(
    requests=Resources(cpu=8, mem="32Gi"),
    interruptible=True,
    retries=3,
    timeout=timedelta(hours=2),
)
def train(scores: list[float], learning_rate: float) -> dict[str, float]:
    """'Fit' a one-parameter model by gradient descent on the chunk scores."""
    weight = 0.0
    for _ in range(200):
        gradient = sum(2 * (weight - s) for s in scores) / len(scores)
        weight -= learning_rate * gradient
    loss = sum((weight - s) ** 2 for s in scores) / len(scores)
    return {"weight": round(weight, 6), "loss": round(loss, 6), "chunks": float(len(scores))}


@task
def evaluate(model: dict[str, float], threshold: float) -> bool:
    return model["loss"] < threshold


@workflow
def training(
    samples: int = 1000, parts: int = 8, learning_rate: float = 0.1
) -> tuple[dict[str, float], bool]:
    chunks = split(samples=samples, parts=parts)
    scores = map_task(score, concurrency=50)(chunk=chunks)
    model = train(scores=scores, learning_rate=learning_rate)
    return model, evaluate(model=model, threshold=1.0)
