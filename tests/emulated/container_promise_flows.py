"""Promises inside containers (dict literals, nested lists and dicts) as inputs of tasks that run on
Lambda, Fargate and AWS Batch; tests/emulated/test_container_promises_e2e.py runs them locally and on
emulated AWS."""

from __future__ import annotations

from stratoflow import Resources, task, workflow


@task
def count(n: int) -> int:
    return n * 3


@task
def words(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def _describe(data: dict[str, list[int]], tags: list[list[str]], nested: dict[str, dict[str, int]]) -> str:
    return f"{sorted(data.items())} {tags} {sorted((k, sorted(v.items())) for k, v in nested.items())}"


@task
def on_lambda(data: dict[str, list[int]], tags: list[list[str]], nested: dict[str, dict[str, int]]) -> str:
    return _describe(data, tags, nested)


@task(requests=Resources(cpu=8, mem="32Gi"))
def on_fargate(data: dict[str, list[int]], tags: list[list[str]], nested: dict[str, dict[str, int]]) -> str:
    return _describe(data, tags, nested)


@task(requests=Resources(cpu=32, mem="130Gi"))
def on_batch(data: dict[str, list[int]], tags: list[list[str]], nested: dict[str, dict[str, int]]) -> str:
    return _describe(data, tags, nested)


@workflow
def everywhere(n: int, m: int) -> dict[str, str]:
    a, b, w = count(n=n), count(n=m), words(n=n)
    data = {"a": [a, b, 7], "b": []}
    tags = [w, ["fixed", "tag"], []]
    nested = {"outer": {"a": a, "seven": 7}, "empty": {}}
    return {
        "lambda": on_lambda(data=data, tags=tags, nested=nested),
        "fargate": on_fargate(data=data, tags=tags, nested=nested),
        "batch": on_batch(data=data, tags=tags, nested=nested),
    }
