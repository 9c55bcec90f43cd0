"""``@dynamic`` at definition time: a task of kind 'dynamic', with @task's options and checks."""

from __future__ import annotations

import pytest

from stratoflow import DefinitionError, dynamic, map_task, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@dynamic
def plain(xs: list[int]) -> list[int]:
    return [inc(x=x) for x in xs]


@dynamic(cache=True, retries=2, name="renamed")
def with_options(x: int) -> int:
    return inc(x=x)


def test_dynamic_makes_a_task_of_kind_dynamic() -> None:
    assert plain.spec.kind == "dynamic"
    assert plain.spec.inputs[0].name == "xs"
    assert with_options.spec.name == "renamed"
    assert with_options.spec.cache.enabled and with_options.spec.retries == 2


def test_a_dynamic_is_one_node_when_a_workflow_calls_it() -> None:
    @workflow
    def wf(x: int) -> int:
        return inc(x=with_options(x=x))

    assert [c.node_id for c in wf.calls] == ["renamed", "inc"]


def test_a_dynamic_task_is_checked_like_a_task() -> None:
    with pytest.raises(DefinitionError, match="retries must be >= 0"):

        @dynamic(retries=-1)
        def bad(x: int) -> int:
            return x


def test_a_dynamic_task_cannot_be_mapped() -> None:
    with pytest.raises(DefinitionError, match="a @dynamic task cannot be mapped"):
        map_task(plain)
