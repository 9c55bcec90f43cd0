"""The trace records each call as one of three frozen records, told apart by ``kind``."""

from __future__ import annotations

import pytest

from stratoflow import map_task, task, workflow
from stratoflow.define import MapCall, MapOptions, TaskCall, WorkflowCall
from stratoflow.lower import lower


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def inner(x: int) -> int:
    return inc(x=x)


@workflow
def outer(xs: list[int]) -> int:
    bumped = map_task(inc, concurrency=4, min_success_ratio=1)(x=xs)
    return inner(x=total(xs=bumped))


def test_each_call_kind_is_its_own_record() -> None:
    mapped, summed, sub = outer.calls
    assert isinstance(mapped, MapCall) and mapped.kind == "map"
    assert mapped.mapped == ("x",)
    assert mapped.options == MapOptions(concurrency=4, min_success_ratio=1, batch_size=None, processes=False)
    assert isinstance(summed, TaskCall) and summed.kind == "task" and summed.target is total
    assert isinstance(sub, WorkflowCall) and sub.kind == "workflow" and sub.target is inner
    with pytest.raises(AttributeError):  # immutable
        summed.node_id = "other"  # type: ignore[misc]


def test_lowering_reads_the_map_options_from_the_record() -> None:
    spec = lower(outer)
    node = spec.node("map_inc")
    assert (node.kind, node.concurrency, node.min_success_ratio) == ("map", 4, 1.0)
    assert [n.id for n in spec.nodes] == ["map_inc", "total", "inner__inc"]
