"""Conditionals, ``>>`` ordering and call-site overrides: the same outputs locally and on emulated AWS."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import SqliteCacheStore
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import lang_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _entered(sandbox: Sandbox, arn: str) -> set[str]:
    history = sandbox.aws.wait(arn, timeout=60)
    return {
        e["stateEnteredEventDetails"]["name"]
        for e in history.events
        if e["type"].endswith("StateEntered") and "stateEnteredEventDetails" in e
    }


def _both(sandbox: Sandbox, spec: ir.WorkflowSpec, inputs: dict[str, Any], home: Path) -> tuple[Any, Any]:
    local = run_local(spec, inputs, RunOptions(home=home, progress=False))
    emulated = sandbox.run(spec, inputs)
    return local, emulated


@pytest.mark.parametrize(
    "case",
    [
        (0.5, 2.0, {"double"}, {"small", "square", "negate"}),
        (3.0, 18.0, {"small", "square"}, {"double", "negate"}),
        (7.0, -14.0, {"small", "negate"}, {"double", "square"}),
    ],
)
def test_three_way_conditional_with_a_nested_one_takes_one_case_everywhere(
    sandbox: Sandbox, tmp_path: Path, case: tuple[float, float, set[str], set[str]]
) -> None:
    x, expected, ran, skipped = case
    spec = lower(lang_flows.fractions)
    local, emulated = _both(sandbox, spec, {"x": x}, tmp_path)
    assert local.outputs == emulated.outputs() == {"o0": expected}
    assert ran <= local.executed and skipped == local.skipped
    assert emulated.skipped() == sorted(skipped)  # what `executions show --remote` prints
    entered = _entered(sandbox, emulated.arn)
    assert ran <= entered
    assert not skipped & entered, "a state of an untaken case ran on AWS"


def test_a_fail_case_fails_the_run_with_its_message_everywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(lang_flows.fractions)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {"x": 20.0}, RunOptions(home=tmp_path, progress=False))
    with pytest.raises(TaskFailedError) as emulated:
        sandbox.run(spec, {"x": 20.0})
    message = "conditional 'fractions' failed: The input must be between 0 and 10"
    assert str(local.value) == message and message in str(emulated.value)
    assert local.value.error_type == emulated.value.error_type == "ConditionalFailed"
    assert local.value.node == emulated.value.node == "fractions"


@pytest.mark.parametrize(("n", "expected"), [(4, "even:4"), (0, "odd:0"), (3, "sub:3"), (5, "odd:5")])
def test_conditions_on_task_outputs_and_a_case_calling_a_sub_workflow(
    sandbox: Sandbox, tmp_path: Path, n: int, expected: str
) -> None:
    local, emulated = _both(sandbox, lower(lang_flows.parity), {"n": n}, tmp_path)
    assert local.outputs == emulated.outputs() == {"o0": expected}


@pytest.mark.parametrize(("n", "expected"), [(-1, "none:-1"), (11, "big:11"), (2, "small:2")])
def test_is_none_and_comparing_an_optional_output(
    sandbox: Sandbox, tmp_path: Path, n: int, expected: str
) -> None:
    local, emulated = _both(sandbox, lower(lang_flows.optional_branch), {"n": n}, tmp_path)
    assert local.outputs == emulated.outputs() == {"o0": expected}


def _times(tag: str) -> dict[str, float]:
    return {
        f"{name.split(':')[0]}.{what}": at for name, what, at in lang_flows.EVENTS if name.endswith(f":{tag}")
    }


@pytest.mark.parametrize(
    "workflow", [lang_flows.ordered, lang_flows.ordered_nodes], ids=["rshift", "create_node"]
)
def test_ordering_without_data_starts_the_second_task_after_the_first_ends(
    sandbox: Sandbox, tmp_path: Path, workflow: Any
) -> None:
    spec = lower(workflow)
    assert [n.upstream() for n in spec.nodes] == [[], [spec.nodes[0].id]]
    definition = asl.compile_workflow(spec).definition
    assert all(state["Type"] != "Parallel" for state in definition["States"].values())
    tag = f"local-{workflow.name}"
    local = run_local(spec, {"tag": tag}, RunOptions(home=tmp_path, progress=False))
    times = _times(tag)
    assert times["second.start"] >= times["first.end"]
    emulated = sandbox.run(spec, {"tag": tag.replace("local", "aws")})
    times = _times(tag.replace("local", "aws"))
    assert times["second.start"] >= times["first.end"]
    assert local.outputs == {"o0": f"second after first: {tag}"}
    assert emulated.outputs() == {"o0": f"second after first: {tag.replace('local', 'aws')}"}


def test_an_override_moves_one_call_from_lambda_to_fargate(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(lang_flows.overridden)
    small, big = spec.nodes
    assert isinstance(small, ir.TaskNode) and isinstance(big, ir.TaskNode)
    declared, override = spec.tasks[small.task], spec.tasks[big.task]
    assert (declared.name, declared.requests.memory_mib, declared.cache.enabled) == ("light", None, False)
    assert (override.name, override.requests.memory_mib, override.requests.cpu) == ("light_big", 32768, 8.0)
    assert (override.timeout_seconds, override.retries, override.cache.enabled) == (1800, 1, True)
    states = asl.compile_workflow(spec).definition["States"]
    assert states[small.id]["Resource"] == "arn:aws:states:::lambda:invoke"
    assert states[big.id]["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    local = run_local(spec, {"x": 2}, RunOptions(home=tmp_path, progress=False))
    emulated = sandbox.run(spec, {"x": 2})
    assert local.outputs == emulated.outputs() == {"o0": 200}
    scheduled = [
        e["taskScheduledEventDetails"]["resource"]
        for e in sandbox.aws.wait(emulated.arn, timeout=60).events
        if e["type"] == "TaskScheduled"
    ]
    assert "runTask.sync" in scheduled


def test_new_types_round_trip_with_equal_outputs_and_cache_keys(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(lang_flows.typed)
    inputs = {
        "when": dt.datetime(2024, 1, 31, 12, tzinfo=dt.UTC),
        "day": dt.date(2024, 2, 28),
        "by": dt.timedelta(hours=36),
        "price": decimal.Decimal("2.50"),
        "color": lang_flows.Color.RED,
    }
    local, emulated = _both(sandbox, spec, inputs, tmp_path)
    expected = {
        "o0": dt.datetime(2024, 2, 2, 0, tzinfo=dt.UTC),
        "o1": dt.date(2024, 3, 1),
        "o2": dt.timedelta(hours=72),
        "o3": decimal.Decimal("5.00"),
        "o4": lang_flows.Color.BLUE,
    }
    assert local.outputs == emulated.outputs() == expected
    assert emulated.outputs()["o4"] is lang_flows.Color.BLUE
    (local_key,) = [key for key, _ in SqliteCacheStore(tmp_path / "cache.sqlite").entries()]
    items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
    assert local_key in {item["pk"]["S"] for item in items}


@pytest.mark.parametrize(
    "case",
    [
        (dt.date(2024, 7, 1), lang_flows.Color.RED, {"o0": "red", "o1": 3}, "summer"),
        (dt.date(2024, 3, 1), lang_flows.Color.BLUE, {"o0": "not red", "o1": 7}, "spring"),
    ],
)
def test_conditions_on_dates_and_enums_with_cases_without_outputs(
    sandbox: Sandbox, tmp_path: Path, case: tuple[dt.date, Any, dict[str, Any], str]
) -> None:
    day, color, expected, noted = case
    spec = lower(lang_flows.dated)
    by_color = next(n for n in spec.nodes if n.id == "by_color")
    assert "weekend" in by_color.upstream()  # marked >> result[0]
    tag = f"{noted}-{color.value}"
    local, emulated = _both(sandbox, spec, {"day": day, "color": color, "tag": tag}, tmp_path)
    assert local.outputs == emulated.outputs() == expected
    notes = {name for name, _, _ in lang_flows.EVENTS if name.startswith("note:") and name.endswith(tag)}
    assert notes == {f"note:{noted}:{tag}"}


def test_a_sub_workflow_holding_a_conditional_is_inlined_with_prefixed_ids(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(lang_flows.sub_with_conditional)
    assert {n.id for n in spec.all_nodes()} >= {
        "fractions__fractions",
        "fractions__small",
        "fractions__square",
    }
    local, emulated = _both(sandbox, spec, {"x": 3.0}, tmp_path)
    assert local.outputs == emulated.outputs() == {"o0": 18.0}
    assert emulated.skipped() == sorted(local.skipped) == ["fractions__double", "fractions__negate"]


@pytest.mark.parametrize(("x", "expected"), [(9, 5), (3, 3)])
def test_a_case_returning_an_input_runs_no_node(
    sandbox: Sandbox, tmp_path: Path, x: int, expected: int
) -> None:
    local, emulated = _both(sandbox, lower(lang_flows.clamp), {"x": x, "limit": 5}, tmp_path)
    assert local.outputs == emulated.outputs() == {"o0": expected}
    assert emulated.skipped() == sorted(local.skipped) == ([] if x <= 5 else ["maybe_int"])


def test_an_untyped_dict_is_the_same_json_everywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(lang_flows.untyped_dicts)
    local = run_local(spec, {"n": 4}, RunOptions(home=tmp_path, progress=False)).outputs
    expected = {"n": 4, "items": [1, 2.5, "x", None, True], "nested": {"a": [4]}}
    assert sandbox.run(spec, {"n": 4}).outputs() == local == {"o0": expected, "o1": 9}
