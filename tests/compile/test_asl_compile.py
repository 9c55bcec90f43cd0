"""compile_workflow: contract details, determinism, size limits and error messages."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.errors import CompileError
from tests.compile.asl_cases import CASE_NAMES, HERE, chain_edges, dag_spec, fan_out_edges, load_case

ERROR_CASES = HERE / "error_cases"


def _line_of(path: Path, marker: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if marker in line)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_compiling_twice_gives_identical_output(case: str) -> None:
    spec = load_case(case)
    first, second = asl.compile_workflow(spec), asl.compile_workflow(spec.model_copy(deep=True))
    assert first.definition_json() == second.definition_json()
    assert first == second


def test_spec_key_is_the_hash_of_the_canonical_spec_json() -> None:
    compiled = asl.compile_workflow(load_case("chain"))
    digest = hashlib.sha256(compiled.spec_json).hexdigest()[:16]
    assert compiled.spec_key == f"specs/chain/{digest}.json"
    assert ir.WorkflowSpec.model_validate_json(compiled.spec_json) == load_case("chain")
    assert b" " not in compiled.spec_json.replace(b"\\u", b"")[:200]  # compact separators


def test_lambda_task_state_follows_the_runner_contract() -> None:
    compiled = asl.compile_workflow(load_case("retries_timeout"))
    state = compiled.definition["States"]["flaky"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke"
    assert state["Parameters"] == {
        "FunctionName": "${TaskRunnerFunctionArn}",
        "Payload": {"run.$": "$$.Execution.Name", "spec": compiled.spec_key, "node": "flaky"},
    }
    assert state["ResultPath"] is None
    assert state["TimeoutSeconds"] == 300
    service, task = state["Retry"]
    assert service["ErrorEquals"] == list(asl.LAMBDA_TRANSIENT_ERRORS)
    assert task == {
        "ErrorEquals": ["States.ALL"],
        "MaxAttempts": 3,
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "JitterStrategy": "FULL",
    }
    assert compiled.placeholders == ("TaskRunnerFunctionArn",)


def test_fargate_node_checks_the_cache_then_runs_the_container() -> None:
    compiled = asl.compile_workflow(load_case("fargate"))
    states = compiled.definition["States"]
    check = states[states["prepare"]["Next"]]
    assert check["Parameters"]["Payload"]["mode"] == "cache_check"
    assert check["ResultSelector"] == {"hit.$": "$.Payload.hit"}
    choice = states[check["Next"]]
    assert choice["Default"] == "train"
    run = states["train"]["Parameters"]
    assert run["TaskDefinition"] == "${TaskDef_cpu8_mem32768}"
    assert run["LaunchType"] == "FARGATE"
    assert {"Name": "STRATOFLOW_NODE", "Value": "train"} in run["Overrides"]["ContainerOverrides"][0][
        "Environment"
    ]
    # Hit and miss both end in the Pass that restores the execution input.
    done = choice["Choices"][0]["Next"]
    assert states["train"]["Next"] == done
    assert states[done]["OutputPath"] == "$.input"
    assert set(compiled.placeholders) >= {
        "ClusterArn",
        "PrivateSubnet1",
        "PrivateSubnet2",
        "TaskSecurityGroup",
    }


def test_fargate_spot_falls_back_to_on_demand_after_an_interruption() -> None:
    states = asl.compile_workflow(load_case("fargate_spot")).definition["States"]
    spot = states["train"]
    assert spot["Parameters"]["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    assert "LaunchType" not in spot["Parameters"]
    assert spot["Retry"][0]["MaxAttempts"] == 2
    parse = states[spot["Catch"][0]["Next"]]
    assert parse["Parameters"]["ecs_task.$"] == "States.StringToJson($.error.Cause)"
    choice = states[parse["Next"]]
    interrupted = choice["Choices"][1]
    assert interrupted["StringEquals"] == "SpotInterruption"
    on_demand = states[interrupted["Next"]]
    assert on_demand["Parameters"]["LaunchType"] == "FARGATE"
    assert "Retry" not in on_demand
    failed = states[choice["Default"]]
    # A Fail state may not raise a States.* name, so the SDK's own error carries the ECS cause.
    assert failed == {"Type": "Fail", "Error": asl.TASK_FAILED, "CausePath": "$.error.Cause"}


def test_empty_workflow_is_a_pass_and_success() -> None:
    definition = asl.compile_workflow(load_case("empty")).definition
    assert [s["Type"] for s in definition["States"].values()] == ["Pass", "Succeed"]


@pytest.mark.parametrize("make_edges", [chain_edges, fan_out_edges])
def test_a_thousand_nodes_compile_or_fail_cleanly(make_edges: object) -> None:
    assert callable(make_edges)
    spec = dag_spec(make_edges(1000), name="big")
    try:
        compiled = asl.compile_workflow(spec)
    except CompileError as exc:
        assert "over Step Functions' 1 MB limit; split it into sub-workflows" in str(exc)
        return
    assert len(compiled.definition_json().encode()) <= asl.MAX_DEFINITION_BYTES


def test_too_large_a_definition_is_a_compile_error() -> None:
    with pytest.raises(CompileError) as info:
        asl.compile_workflow(dag_spec(chain_edges(3000), name="huge"))
    message = str(info.value)
    assert message.startswith("generated.py:1:1: error: workflow huge compiles to ")
    assert message.endswith("bytes of ASL, over Step Functions' 1 MB limit; split it into sub-workflows")


def test_long_and_odd_node_ids_become_valid_unique_state_names() -> None:
    long_a, long_b = "x" * 100 + "a", "x" * 100 + "b"
    spec = dag_spec({long_a: [], long_b: [long_a], "odd.id": [long_b]})
    states = asl.compile_workflow(spec).definition["States"]
    assert len(states) == 3
    assert "odd_id" in states
    assert all(len(name) <= 80 for name in states)


def test_map_task_is_not_compiled_yet() -> None:
    from stratoflow.lower import lower
    from tests.compile.error_cases.map_workflow import map_workflow

    path = ERROR_CASES / "map_workflow.py"
    with pytest.raises(CompileError) as info:
        asl.compile_workflow(lower(map_workflow))
    (problem,) = info.value.problems
    assert problem.line == _line_of(path, "map_task(double)")
    assert Path(problem.path).resolve() == path
    assert (
        problem.message == "map_task node 'map_double' in workflow 'map_workflow' is not compiled to ASL yet"
    )


def test_dynamic_task_is_not_compiled_yet() -> None:
    spec = dag_spec({"a": [], "b": ["a"]})
    dynamic = spec.model_copy(
        update={"tasks": {"step": spec.tasks["step"].model_copy(update={"kind": "dynamic"})}}
    )
    with pytest.raises(CompileError) as info:
        asl.compile_workflow(dynamic)
    assert [(p.line, p.message) for p in info.value.problems] == [
        (2, "@dynamic task 'step' (node 'a') in workflow 'generated' is not compiled to ASL yet"),
        (3, "@dynamic task 'step' (node 'b') in workflow 'generated' is not compiled to ASL yet"),
    ]
    assert str(info.value).startswith("2 problems found:\n  1. generated.py:2:5: error: @dynamic task")


def test_internal_checks_flag_states_all_not_alone_or_last() -> None:
    definition = json.loads(asl.compile_workflow(load_case("retries_timeout")).definition_json())
    retry = definition["States"]["flaky"]["Retry"]
    retry.reverse()
    retry[0]["ErrorEquals"].append("Sdk.TaskFailed")
    assert asl.check_definition(definition) == [
        "state 'flaky': Retry[0] uses States.ALL, which must be alone and last",
    ]
