"""map_task at definition time: with ``min_success_ratio < 1`` failed items become None, so the
output is ``list[Optional[T]]``, and a consumer must say so (STYLE §4: message text and line)."""

from __future__ import annotations

from pathlib import Path

from stratoflow import ir, map_task, task
from stratoflow.lower import lower
from tests.define._cases import definition_error, import_path, write_module

# Lines 1-15; a case starts at line 16.
TASKS = """\
from typing import Optional

from stratoflow import map_task, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


"""


@task
def double(x: int) -> int:
    return 2 * x


@task
def maybe_half(x: int) -> int | None:
    return x // 2 if x % 2 == 0 else None


def _render(t: ir.TypeRef) -> str:
    return t.render()


def test_all_items_must_succeed_by_default_so_the_output_is_list_of_t() -> None:
    assert _render(map_task(double).output.type) == "list[int]"
    assert _render(map_task(double, min_success_ratio=1.0).output.type) == "list[int]"


def test_a_ratio_below_one_makes_the_output_list_of_optional_t() -> None:
    assert _render(map_task(double, min_success_ratio=0.9).output.type) == "list[Optional[int]]"
    assert _render(map_task(double, min_success_ratio=0.0).output.type) == "list[Optional[int]]"


def test_an_optional_item_is_not_wrapped_twice() -> None:
    assert _render(map_task(maybe_half, min_success_ratio=0.5).output.type) == "list[Optional[int]]"


def test_a_consumer_of_list_of_t_is_rejected_naming_both_types_at_the_call(tmp_path: Path) -> None:
    source = (
        TASKS
        + """\
@workflow
def wf(xs: list[int]) -> int:
    ys = map_task(inc, min_success_ratio=0.5)(x=xs)
    return total(xs=ys)
"""
    )
    path, error = definition_error(tmp_path, source)
    (problem,) = error.problems
    assert Path(problem.path).resolve() == path.resolve()
    assert (problem.line, problem.col) == (19, 12)  # the consumer's call (line 18 is the map_task)
    assert str(error) == f"{problem.path}:19:12: error: {problem.message}"
    assert problem.message == (
        "input 'xs' of task 'total' expects list[int], but output 'o0' of node 'map_inc' "
        "is list[Optional[int]]"
    )


def test_a_consumer_of_list_of_optional_t_is_accepted(tmp_path: Path) -> None:
    source = (
        TASKS
        + """\
@task
def total_present(xs: list[Optional[int]]) -> int:
    return sum(x for x in xs if x is not None)


@workflow
def wf(xs: list[int]) -> int:
    ys = map_task(inc, min_success_ratio=0.5)(x=xs)
    return total_present(xs=ys)
"""
    )
    module = import_path(write_module(tmp_path, source))
    spec = lower(module.wf)
    map_node, consumer = spec.nodes
    assert isinstance(map_node, ir.MapNode)
    assert map_node.min_success_ratio == 0.5
    assert consumer.task == "total_present"


def test_processes_is_carried_into_the_ir_and_defaults_to_threads(tmp_path: Path) -> None:
    source = (
        TASKS
        + """\
@workflow
def wf(xs: list[int]) -> tuple[list[int], list[int]]:
    return map_task(inc, processes=True)(x=xs), map_task(inc)(x=xs)
"""
    )
    module = import_path(write_module(tmp_path, source))
    on_processes, on_threads = lower(module.wf).nodes
    assert isinstance(on_processes, ir.MapNode)
    assert isinstance(on_threads, ir.MapNode)
    assert (on_processes.processes, on_threads.processes) == (True, False)
