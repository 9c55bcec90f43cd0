"""Type-checker checks (run by mypy --strict, never executed by pytest).

Good workflows type-check like plain Python; the ``# type: ignore[...]`` lines are
deliberate mistakes that mypy must reject: with ``warn_unused_ignores`` an ignore that
stops being needed (the mistake type-checks) fails the check.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import assert_type

from stratoflow import (
    File,
    ImageSpec,
    Resources,
    WorkflowFailurePolicy,
    approve,
    dynamic,
    map_task,
    sleep,
    task,
    wait_for_input,
    workflow,
)
from stratoflow.accelerators import T4
from stratoflow.define import MapTaskDef, TaskDef, WorkflowDef


@task(requests=Resources(cpu=1, mem="512Mi"), retries=2)
def score(chunk: str) -> float:
    return float(len(chunk))


@task
def split(data: File, parts: int) -> list[str]:
    return [data.name] * parts


@task(accelerator=T4, compute="batch")
def train(epochs: int) -> str:
    return f"model-{epochs}"


@task(container_image=ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"]).with_apt_packages("git"))
def fit(chunk: str) -> float:
    return float(len(chunk))


@task(container_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/tools:1")
def audit(chunk: str) -> str:
    return chunk


@task
def weigh(chunk: str, weight: float) -> float:
    return weight * len(chunk)


@workflow
def pipeline(data: File, parts: int = 4) -> list[float]:
    chunks = split(data=data, parts=parts)
    assert_type(chunks, list[str])
    scores = map_task(score, concurrency=10)(chunk=chunks)
    assert_type(scores, list[float])
    tolerant = map_task(score, min_success_ratio=0.9)(chunk=chunks)
    assert_type(tolerant, list[float | None])
    weighted = map_task(functools.partial(weigh, weight=2.0))(chunk=chunks)
    assert_type(weighted, list[float])
    return scores


@task
def clean_up(parts: int) -> None:
    print(parts)


@workflow(on_failure=clean_up, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
def gated(parts: int) -> float:
    sleep(timedelta(seconds=5))
    n = wait_for_input("n", timeout=timedelta(hours=1), expected_type=int)
    assert_type(n, int)
    approved = approve(score(chunk="x"), "ok", timeout=timedelta(hours=1))
    assert_type(approved, float)
    return weigh(chunk="x", weight=approved)


@dynamic
def fan_out(n: int) -> list[float]:
    return [score(chunk=str(i)) for i in range(n)]


assert isinstance(score, TaskDef)
assert isinstance(pipeline, WorkflowDef)
assert_type(score(chunk="abc"), float)
assert_type(train(epochs=1), str)
assert_type(fan_out(n=2), list[float])
assert_type(pipeline(data=File("x.csv")), list[float])
assert_type(map_task(score), MapTaskDef[float])
assert_type(map_task(score, min_success_ratio=1), MapTaskDef[float])
assert_type(map_task(score, min_success_ratio=0.5), MapTaskDef[float | None])

score(chunk=3)  # type: ignore[arg-type]
score(chnk="x")  # type: ignore[call-arg]
pipeline(data=File("x.csv"), parts="four")  # type: ignore[arg-type]
task(retries="2")  # type: ignore[call-overload]
task(compute="gpu-cluster")  # type: ignore[call-overload]
task(nope=True)  # type: ignore[call-overload]
dynamic(accelerator=3)  # type: ignore[call-overload]
assert_type(fit(chunk="x"), float)
assert_type(audit(chunk="x"), str)
assert_type(ImageSpec(name="x").is_container(), bool)
task(container_image=3)  # type: ignore[call-overload]
ImageSpec(name="x", packages=3)  # type: ignore[arg-type]
