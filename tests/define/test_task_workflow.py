"""Decorators and tracing: tasks are plain functions outside a workflow, workflows trace once and run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

import pytest

from stratoflow import Resources, WorkflowDef, task, workflow
from stratoflow.define import TaskDef
from stratoflow.lower import lower

BODY_RUNS: list[str] = []


@dataclass
class Stats:
    count: int
    mean: float


class MinMax(NamedTuple):
    low: int
    high: int


@task
def inc(x: int) -> int:
    return x + 1


@task(retries=3, cache=True, cache_version="7", timeout=timedelta(minutes=2), name="scaled_by")
def scale(x: int, factor: int = 10) -> int:
    return x * factor


@task()
def stats(xs: list[int]) -> Stats:
    return Stats(count=len(xs), mean=sum(xs) / len(xs))


@task
def divmod_(a: int, b: int) -> tuple[int, int]:
    return a // b, a % b


@task
def min_max(xs: list[int]) -> MinMax:
    return MinMax(min(xs), max(xs))


@task(requests=Resources(cpu="500m", mem="1Gi"))
def nothing(x: int) -> None:
    return None


@workflow
def with_defaults(x: int = 4, factor: int = 3) -> int:
    BODY_RUNS.append("with_defaults")
    return scale(x=inc(x=x), factor=factor)


@workflow
def uses_task_default(x: int) -> int:
    return scale(x=x)


@workflow
def tuple_out(a: int, b: int) -> tuple[int, int]:
    q, r = divmod_(a=a, b=b)
    return r, q


@workflow
def namedtuple_out(xs: list[int]) -> MinMax:
    return min_max(xs=xs)


@workflow
def dataclass_out(xs: list[int]) -> Stats:
    return stats(xs=xs)


@workflow
def inner(x: int) -> int:
    return inc(x=inc(x=x))


@workflow
def outer(x: int) -> tuple[int, int]:
    first = inner(x=x)
    return inner(x=first), scale(x=first, factor=2)


@workflow
def with_constant() -> int:
    return scale(x=5, factor=7)


# --- tasks outside a workflow are plain Python -------------------------------------------------


def test_task_is_callable_as_plain_python() -> None:
    assert inc(x=1) == 2
    assert inc(41) == 42  # positional is fine outside a workflow
    assert scale(x=2) == 20
    assert stats(xs=[1, 2, 3]) == Stats(count=3, mean=2.0)
    assert min_max(xs=[3, 1, 2]) == MinMax(low=1, high=3)
    assert nothing(x=1) is None


def test_bare_and_called_decorators_both_build_task_defs() -> None:
    for decorated in (inc, stats, scale, nothing):
        assert isinstance(decorated, TaskDef)
    assert inc.spec.retries == 0
    assert inc.spec.cache.enabled is False
    assert stats.spec.name == "stats"
    assert scale.spec.name == "scaled_by"
    assert scale.spec.retries == 3
    assert scale.spec.timeout_seconds == 120
    assert scale.spec.cache.enabled is True
    assert scale.spec.cache.version == "7"
    assert nothing.spec.requests.cpu == 0.5
    assert nothing.spec.requests.memory_mib == 1024


def test_task_spec_refers_to_the_function_by_import_path() -> None:
    assert inc.spec.ref == f"{__name__}:inc"
    assert inc.spec.location.line == inc.fn.__code__.co_firstlineno
    assert inc.spec.location.path.endswith("test_task_workflow.py")
    # No cache_version: the version is a hash of the source, so editing the body invalidates it.
    assert inc.spec.cache.version.startswith("src:")
    assert inc.spec.cache.version != stats.spec.cache.version


def test_interface_is_read_from_annotations() -> None:
    assert [(v.name, v.type.render(), v.has_default, v.default) for v in scale.spec.inputs] == [
        ("x", "int", False, None),
        ("factor", "int", True, 10),
    ]
    assert [(v.name, v.type.render()) for v in divmod_.spec.outputs] == [("o0", "int"), ("o1", "int")]
    assert [(v.name, v.type.render()) for v in min_max.spec.outputs] == [("low", "int"), ("high", "int")]
    assert nothing.spec.outputs == ()
    assert stats.spec.outputs[0].type.kind == "dataclass"


# --- workflows ---------------------------------------------------------------------------------


def test_workflow_body_runs_once_at_definition_time() -> None:
    assert isinstance(with_defaults, WorkflowDef)
    runs = BODY_RUNS
    assert runs == ["with_defaults"]  # traced once, when the module was imported
    assert with_defaults(x=1, factor=2) == 4
    assert with_defaults(x=2, factor=2) == 6
    assert runs == ["with_defaults"]  # running executes the IR, never the body again


def test_workflow_input_defaults_are_honoured() -> None:
    assert with_defaults() == (4 + 1) * 3
    assert with_defaults(factor=5) == (4 + 1) * 5
    assert with_defaults(x=0) == 3
    spec = lower(with_defaults)
    assert [(v.name, v.has_default, v.default) for v in spec.inputs] == [("x", True, 4), ("factor", True, 3)]


def test_task_input_defaults_are_honoured_inside_a_workflow() -> None:
    assert uses_task_default(x=3) == 30


def test_single_output() -> None:
    result = with_constant()
    assert result == 35
    assert isinstance(result, int)


def test_tuple_outputs_in_declared_order() -> None:
    assert tuple_out(a=17, b=5) == (2, 3)


def test_namedtuple_output_is_returned_as_the_namedtuple() -> None:
    result = namedtuple_out(xs=[5, -2, 9])
    assert isinstance(result, MinMax)
    assert result == MinMax(low=-2, high=9)
    assert result.high == 9
    assert [v.name for v in lower(namedtuple_out).outputs] == ["low", "high"]


def test_dataclass_output_is_a_python_value() -> None:
    result = dataclass_out(xs=[1, 2, 6])
    assert result == Stats(count=3, mean=3.0)
    assert isinstance(result, Stats)


def test_sub_workflow_call_is_inlined_and_runs() -> None:
    # first = x + 2; inner(first) = x + 4; scale(first, 2) = 2x + 4
    assert outer(x=1) == (5, 6)
    spec = lower(outer)
    assert [node.id for node in spec.nodes] == [
        "inner__inc",
        "inner__inc_2",
        "inner_2__inc",
        "inner_2__inc_2",
        "scaled_by",
    ]
    assert spec.node("inner_2__inc").upstream() == ["inner__inc_2"]


def test_workflow_takes_keyword_arguments_only_in_plain_python() -> None:
    with pytest.raises(TypeError, match="keyword arguments only"):
        with_defaults(1)  # type: ignore[call-arg]


def test_named_workflow() -> None:
    @workflow(name="renamed")
    def original(x: int) -> int:
        return inc(x=x)

    assert original.name == "renamed"
    assert lower(original).name == "renamed"
    assert original(x=1) == 2
