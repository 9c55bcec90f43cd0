"""Type-checker checks (run by mypy --strict, never executed by pytest).

Good workflows type-check like plain Python; the ``# type: ignore[...]`` lines are
deliberate mistakes that mypy must reject: with ``warn_unused_ignores`` an ignore that
stops being needed (the mistake type-checks) fails the check.
"""

from __future__ import annotations

from typing import assert_type

from stratoflow import File, Resources, map_task, task, workflow
from stratoflow.define import MapTaskDef, TaskDef, WorkflowDef


@task(requests=Resources(cpu=1, mem="512Mi"), retries=2)
def score(chunk: str) -> float:
    return float(len(chunk))


@task
def split(data: File, parts: int) -> list[str]:
    return [data.name] * parts


@workflow
def pipeline(data: File, parts: int = 4) -> list[float]:
    chunks = split(data=data, parts=parts)
    assert_type(chunks, list[str])
    scores: list[float] = map_task(score, concurrency=10)(chunk=chunks)
    return scores


assert isinstance(score, TaskDef)
assert isinstance(pipeline, WorkflowDef)
assert_type(score(chunk="abc"), float)
assert_type(pipeline(data=File("x.csv")), list[float])
assert_type(map_task(score), MapTaskDef)

score(chunk=3)  # type: ignore[arg-type]
score(chnk="x")  # type: ignore[call-arg]
pipeline(data=File("x.csv"), parts="four")  # type: ignore[arg-type]
