"""``@dynamic`` on the local executor: the body runs on real values and its sub-graph runs as
one node (loops, ifs, map_task inside, caching, errors, dynamics in sub-workflows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from tests.local import _dynamic_flows as df


def run(wf: Any, home: Path, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, RunOptions(home=home, progress=False))


def calls(marker: Path) -> int:
    return len(marker.read_text().split()) if marker.exists() else 0


def test_a_dynamic_task_is_one_task_node_in_the_workflow() -> None:
    spec = lower(df.squares)
    assert [n.id for n in spec.nodes] == ["sum_of_squares"]
    assert spec.tasks["sum_of_squares"].kind == "dynamic"


def test_the_body_loops_over_a_run_time_list(tmp_path: Path) -> None:
    result = run(df.squares, tmp_path, xs=[1, 2, 3, 4])
    assert result.outputs == {"o0": 30}
    assert result.executed == {
        "sum_of_squares",
        "sum_of_squares__square",
        "sum_of_squares__square_2",
        "sum_of_squares__square_3",
        "sum_of_squares__square_4",
        "sum_of_squares__total",
    }
    assert run(df.squares, tmp_path, xs=[]).outputs == {"o0": 0}


def test_an_if_on_a_run_time_value_picks_the_branch(tmp_path: Path) -> None:
    big = run(df.classified, tmp_path, x=12)
    assert big.outputs == {"o0": "big:144"}
    assert "classify__square" in big.executed and "classify__add" not in big.executed
    assert run(df.classified, tmp_path, x=3).outputs == {"o0": "small:4"}
    # the dynamic's input comes from an upstream node
    assert run(df.doubled_then_classified, tmp_path, x=6).outputs == {"o0": "big:144"}


def test_map_task_inside_a_dynamic_body(tmp_path: Path) -> None:
    assert run(df.mapped, tmp_path, n=5).outputs == {"o0": [0, 1, 4, 9, 16]}
    assert run(df.mapped, tmp_path, n=0).outputs == {"o0": []}


def test_tuple_outputs_mix_promises_and_constants(tmp_path: Path) -> None:
    assert run(df.paired, tmp_path, x=7).outputs == {"o0": 49, "o1": "constant"}


def test_the_dynamic_node_and_its_sub_nodes_are_cached(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    body = tmp_path / "marker.body"
    first = run(df.cached_flow, tmp_path, xs=[1, 2, 3], marker=str(marker))
    assert first.outputs == {"o0": 14}
    assert (calls(body), calls(marker)) == (1, 3)
    second = run(df.cached_flow, tmp_path, xs=[1, 2, 3], marker=str(marker))
    assert second.outputs == {"o0": 14}
    assert second.cache_hits == {"cached_fanout"}  # the body did not even run
    assert (calls(body), calls(marker)) == (1, 3)
    third = run(df.cached_flow, tmp_path, xs=[1, 2, 3, 4], marker=str(marker))
    assert third.outputs == {"o0": 30}
    assert (calls(body), calls(marker)) == (2, 4)  # only the new element's task ran
    assert {"cached_fanout__cached_square", "cached_fanout__cached_square_3"} <= third.cache_hits
    uncached = run_local(
        lower(df.cached_flow),
        {"xs": [1, 2, 3], "marker": str(marker)},
        RunOptions(home=tmp_path, progress=False, use_cache=False),
    )
    assert uncached.outputs == {"o0": 14}
    assert (calls(body), calls(marker)) == (3, 7)


def test_an_error_in_the_body_names_the_dynamic_node(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as info:
        run(df.broken, tmp_path, x=2)
    assert info.value.node == "broken_body"
    assert "node 'broken_body'" in str(info.value)
    assert "ValueError: no positive values, got 2" in str(info.value)
    assert run(df.broken, tmp_path, x=-2).outputs == {"o0": 4}


def test_an_error_in_the_sub_graph_names_the_sub_node_under_the_dynamic_node(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as info:
        run(df.broken_inside, tmp_path, x=2)
    assert info.value.node == "failing_inside__fails"
    assert "RuntimeError: inner task failed on 4" in str(info.value)


def test_misusing_a_promise_in_the_body_fails_the_node_with_the_problem(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as info:
        run(df.misused, tmp_path, x=3)
    assert info.value.node == "misuses_promise"
    message = str(info.value)
    assert (
        "@dynamic task 'misuses_promise' in node 'misuses_promise' built an invalid sub-workflow" in message
    )
    assert "_dynamic_flows.py" in message and "cannot be used as a Python value" in message


def test_a_dynamic_inside_a_sub_workflow(tmp_path: Path) -> None:
    result = run(df.outer, tmp_path, xs=[2, 3])
    assert result.outputs == {"o0": 14}
    assert "inner__sum_of_squares__total" in result.executed


def test_a_dynamic_calling_a_dynamic_and_a_workflow(tmp_path: Path) -> None:
    result = run(df.nested, tmp_path, xs=[1, 2])
    assert result.outputs == {"o0": 5 + 4 + 1}
    assert "nested_dynamic__sum_of_squares__total" in result.executed
    assert "nested_dynamic__inner__sum_of_squares__square" in result.executed


def test_calling_the_workflow_runs_it_locally_and_the_body_is_plain_python_outside() -> None:
    assert df.squares(xs=[3]) == 9
    assert df.sum_of_squares(xs=[1, 2]) == 5  # outside a workflow the tasks just run


def test_ordering_without_data_inside_a_dynamic_body_holds(tmp_path: Path) -> None:
    # The sub-graph's node ids are prefixed (`ordered__quick_second`): so must be its `after` ids.
    df.ORDER.clear()
    result = run(df.ordered_flow, tmp_path, n=1)
    assert result.outputs == {"o0": 2}
    assert df.ORDER == ["first", "second"]
