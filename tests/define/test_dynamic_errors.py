"""Mistakes in a @dynamic body point at the user's line in the body, not at the decorator.

The body runs when the node runs, so the DefinitionError arrives wrapped in the node's
TaskFailedError; its problems keep the file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import DefinitionError, TaskFailedError
from tests.define._cases import import_path, write_module

HEAD = """\
from stratoflow import dynamic, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


"""  # lines 1-8; a case starts at line 9


def body_problems(tmp_path: Path, source: str) -> list[tuple[int, str]]:
    path = write_module(tmp_path, HEAD + source)
    module = import_path(path)
    with pytest.raises(TaskFailedError) as info:
        module.wf(n=2)
    cause = info.value.__cause__
    assert isinstance(cause, DefinitionError), info.value
    assert all(p.path.endswith(path.name) for p in cause.problems)
    return [(p.line, p.message) for p in cause.problems]


def test_a_wrong_return_value_points_at_the_return_statement(tmp_path: Path) -> None:
    source = """\
@dynamic
def d(n: int) -> int:
    total = inc(x=n)
    return "total"


@workflow
def wf(n: int) -> int:
    return d(n=n)
"""
    assert body_problems(tmp_path, source) == [
        (12, "output 'o0' of workflow 'd': expected int, got str 'total'"),
    ]


def test_a_wrong_list_item_points_at_the_return_statement(tmp_path: Path) -> None:
    source = """\
@dynamic
def d(n: int) -> list[str]:
    return [inc(x=i) for i in range(n)]


@workflow
def wf(n: int) -> list[str]:
    return d(n=n)
"""
    assert body_problems(tmp_path, source) == [
        (11, "output 'o0' of workflow 'd' item expects str, but output 'o0' of node 'inc' is int"),
        (11, "output 'o0' of workflow 'd' item expects str, but output 'o0' of node 'inc_2' is int"),
    ]


def test_with_several_returns_the_return_annotation_is_the_line(tmp_path: Path) -> None:
    source = """\
@dynamic
def d(n: int) -> int:
    if n > 5:
        return inc(x=n)
    return "small"


@workflow
def wf(n: int) -> int:
    return d(n=n)
"""
    assert body_problems(tmp_path, source) == [
        (10, "output 'o0' of workflow 'd': expected int, got str 'small'"),
    ]


def test_a_wrong_call_points_at_the_call(tmp_path: Path) -> None:
    source = """\
@dynamic
def d(n: int) -> int:
    first = inc(x=n)
    return inc(y=first)


@workflow
def wf(n: int) -> int:
    return d(n=n)
"""
    assert body_problems(tmp_path, source) == [
        (12, "task 'inc' got unexpected argument 'y' in workflow 'd'"),
        (12, "task 'inc' is missing required input 'x' (int) in workflow 'd'"),
    ]
