"""Compiled workflows executed by moto's Step Functions interpreter against emulated S3,
DynamoDB, Lambda (the real runner handler, in-process) and ECS (the real container entrypoint)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import SqliteCacheStore
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import flows

pytestmark = pytest.mark.emulated

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One emulated stack shared by the tests of this module (deploys are per workflow)."""
    with Sandbox() as stack:
        yield stack


def _history(sandbox: Sandbox, arn: str):  # type: ignore[no-untyped-def]
    return sandbox.aws.wait(arn, timeout=60)


def test_diamond_matches_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flows.diamond)
    local = run_local(spec, {"x": 5}, RunOptions(home=tmp_path, progress=False)).outputs
    emulated = sandbox.run(spec, {"x": 5}).outputs()
    assert emulated == local == {"o0": "11+20"}


def test_second_run_is_all_cache_hits_with_one_transition_per_node(sandbox: Sandbox) -> None:
    spec = lower(flows.diamond)
    sandbox.run(spec, {"x": 100})
    before = dict(flows.CALLS)
    execution = sandbox.run(spec, {"x": 100})
    assert dict(flows.CALLS) == before, "a cached node ran its user function"
    assert execution.outputs() == {"o0": "201+400"}
    history = _history(sandbox, execution.arn)
    task_states = [e for e in history.events if e["type"] == "TaskStateEntered"]
    lambda_calls = [e for e in history.events if e["type"] == "TaskScheduled"]
    assert len(task_states) == len(spec.nodes) == 4
    assert len(lambda_calls) == len(spec.nodes)


def test_local_and_emulated_compute_identical_cache_keys(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flows.diamond)
    run_local(spec, {"x": 7}, RunOptions(home=tmp_path, progress=False))
    local_keys = {key for key, _ in SqliteCacheStore(tmp_path / "cache.sqlite").entries()}
    sandbox.run(spec, {"x": 7})
    items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
    emulated_keys = {item["pk"]["S"] for item in items}
    assert len(local_keys) == 4
    assert local_keys <= emulated_keys


def test_task_failing_twice_then_succeeding_with_retries_2_succeeds(sandbox: Sandbox) -> None:
    execution = sandbox.run(lower(flows.flaky_flow), {"key": "emulated-retry"})
    assert execution.outputs() == {"o0": "emulated-retry ok after 3"}
    history = _history(sandbox, execution.arn)
    failed = [e for e in history.events if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["FlakyError", "FlakyError"]


def test_always_failing_task_fails_the_execution_with_its_exception_name(sandbox: Sandbox) -> None:
    spec = lower(flows.failing_flow)
    calls_before = flows.CALLS["always_fails"]
    with pytest.raises(TaskFailedError) as info:
        sandbox.run(spec, {"x": 3})
    assert info.value.error_type == "BrokenPipelineError"
    assert info.value.node == "always_fails"
    assert "cannot handle 3" in str(info.value)
    assert flows.CALLS["always_fails"] - calls_before == 2  # retries=1: two attempts
    assert sandbox.aws.runtime_errors() == []


def test_5mb_output_passes_between_tasks_with_small_state_payloads(sandbox: Sandbox) -> None:
    small = sandbox.run(lower(flows.big_flow), {"megabytes": 0})
    big = sandbox.run(lower(flows.big_flow), {"megabytes": 5})
    assert big.outputs() == {"o0": 5 * 1024 * 1024}
    big_payload = _history(sandbox, big.arn).max_payload_bytes
    small_payload = _history(sandbox, small.arn).max_payload_bytes
    assert big_payload < 8 * 1024
    assert big_payload == small_payload


def test_fargate_task_runs_in_the_container_entrypoint_and_is_cached(sandbox: Sandbox) -> None:
    spec = lower(flows.fargate_flow)
    first = sandbox.run(spec, {"x": 4})
    assert first.outputs() == {"o0": 41}
    history = _history(sandbox, first.arn)
    resources = {
        e["taskScheduledEventDetails"]["resource"] for e in history.events if e["type"] == "TaskScheduled"
    }
    assert "runTask.sync" in resources
    heavy_calls = flows.CALLS["heavy"]
    second = sandbox.run(spec, {"x": 4})
    assert second.outputs() == {"o0": 41}
    assert flows.CALLS["heavy"] == heavy_calls
    second_resources = [
        e["taskScheduledEventDetails"]["resource"]
        for e in _history(sandbox, second.arn).events
        if e["type"] == "TaskScheduled"
    ]
    assert "runTask.sync" not in second_resources


@pytest.mark.parametrize(
    ("example", "workflow", "inputs"),
    [
        ("features.py", "features", {"days": 2}),
        ("etl.py", "sales_report", {"data": str(EXAMPLES / "data" / "sales.csv")}),
    ],
)
def test_examples_match_local_runs(
    sandbox: Sandbox, tmp_path: Path, example: str, workflow: str, inputs: dict[str, object]
) -> None:
    from stratoflow.define import load_workflow

    spec = lower(load_workflow(str(EXAMPLES / example), workflow))
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    emulated = sandbox.run(spec, inputs).outputs()
    assert emulated.keys() == local.keys()
    for name in local:
        if hasattr(local[name], "content_hash"):
            assert emulated[name].content_hash() == local[name].content_hash()
        else:
            assert emulated[name] == local[name]


def _launches(sandbox: Sandbox, arn: str) -> list[str]:
    import json

    launches = []
    for event in _history(sandbox, arn).events:
        if event["type"] == "TaskScheduled" and "runTask" in event["taskScheduledEventDetails"]["resource"]:
            parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
            strategy = parameters.get("CapacityProviderStrategy")
            launches.append(
                strategy[0]["CapacityProvider"] if strategy else parameters.get("LaunchType", "?")
            )
    return launches


def test_spot_task_runs_on_spot(sandbox: Sandbox) -> None:
    execution = sandbox.run(lower(flows.spot_flow), {"x": 2})
    assert execution.outputs() == {"o0": 6}
    assert _launches(sandbox, execution.arn) == ["FARGATE_SPOT"]


def test_spot_interruptions_retry_on_spot_then_last_attempt_on_demand(sandbox: Sandbox) -> None:
    sandbox.spot_interruptions["spot_train"] = 3  # every Spot attempt (retries=2 -> 3) is reclaimed
    execution = sandbox.run(lower(flows.spot_flow), {"x": 5})
    assert execution.outputs() == {"o0": 15}
    assert _launches(sandbox, execution.arn) == ["FARGATE_SPOT"] * 3 + ["FARGATE"]
    assert sandbox.spot_interruptions["spot_train"] == 0


def test_app_failure_on_spot_is_retried_on_spot_and_never_moved_to_on_demand(sandbox: Sandbox) -> None:
    spec = lower(flows.spot_failing_flow)
    sandbox.deploy(spec)
    assert sandbox.client is not None
    execution = sandbox.client.submit(spec, {"x": 1})
    with pytest.raises(TaskFailedError) as info:
        execution.wait(timeout=60)
    assert info.value.node == "spot_fails"
    assert "exited with code 1" in str(info.value)
    assert "FARGATE_SPOT" in str(info.value)
    assert _launches(sandbox, execution.arn) == ["FARGATE_SPOT", "FARGATE_SPOT"]
