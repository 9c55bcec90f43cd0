"""compile_workflow: contract details, determinism, size limits and error messages."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.backends.asl import _batch, _checks, _map
from stratoflow.errors import CompileError
from stratoflow.ir import protocol
from tests.compile.asl_cases import CASE_NAMES, chain_edges, dag_spec, fan_out_edges, load_case


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
        "Payload": {
            "run.$": "$$.Execution.Name",
            "spec": compiled.spec_key,
            "node": "flaky",
            # The runner learns which attempt it runs from the state (as the local executor counts).
            "attempt.$": "States.MathAdd($$.State.RetryCount, 1)",
        },
    }
    assert state["ResultPath"] is None
    assert state["TimeoutSeconds"] == 300
    service, task = state["Retry"]
    assert service["ErrorEquals"] == list(protocol.LAMBDA_TRANSIENT_ERRORS)
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
    assert failed == {"Type": "Fail", "Error": protocol.TASK_FAILED, "CausePath": "$.error.Cause"}


def test_empty_workflow_is_a_pass_and_success() -> None:
    definition = asl.compile_workflow(load_case("empty")).definition
    assert [s["Type"] for s in definition["States"].values()] == ["Pass", "Succeed"]


@pytest.mark.parametrize("make_edges", [chain_edges, fan_out_edges])
def test_a_thousand_nodes_compile_under_the_limit(make_edges: object) -> None:
    assert callable(make_edges)
    compiled = asl.compile_workflow(dag_spec(make_edges(1000), name="big"))
    # The limit counts the deployed (compact) text; the indented form is for people.
    assert len(compiled.deployed_json().encode()) <= _checks.MAX_DEFINITION_BYTES
    assert json.loads(compiled.deployed_json()) == compiled.definition


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


def _map_child(case: str) -> tuple[dict[str, Any], dict[str, Any]]:
    compiled = asl.compile_workflow(load_case(case))
    states = compiled.definition["States"]
    node = next(name for name, s in states.items() if s["Type"] == "Map")
    return states, states[node]


def test_a_map_over_a_fargate_task_runs_one_batch_per_container_in_standard_children() -> None:
    states, map_state = _map_child("map_fargate")
    assert map_state["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    # The batch size is map_prepare's (run time), parked in the payload and restored after gather.
    assert map_state["ItemBatcher"] == {
        "MaxItemsPerBatchPath": "$.map.batch_size",
        "BatchInput": {"run.$": "$$.Execution.Name"},
    }
    prepare = states[map_state["Label"] + "__prepare"]
    assert prepare["ResultPath"] == "$.map"
    assert prepare["ResultSelector"] == {
        "batch_size.$": "$.Payload.batch_size",
        "batch_timeout.$": "$.Payload.batch_timeout",
    }
    assert states[states["map_train__gather"]["Next"]]["OutputPath"] == "$.input"
    (batch,) = map_state["ItemProcessor"]["States"].values()
    assert batch["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert batch["OutputPath"] is None and batch["End"] is True
    assert "TimeoutSeconds" not in batch and "TimeoutSecondsPath" not in batch
    env = {e["Name"]: e for e in batch["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]}
    assert env[protocol.ENV_RUN] == {"Name": protocol.ENV_RUN, "Value.$": "$.BatchInput.run"}
    assert env[protocol.ENV_MODE]["Value"] == protocol.Mode.MAP_ITEMS.value
    assert env[protocol.ENV_ITEMS]["Value.$"] == "States.JsonToString($.Items)"


def test_an_interruptible_container_map_retries_batches_on_spot_then_on_demand() -> None:
    _, map_state = _map_child("map_fargate_spot")
    assert map_state["MaxConcurrency"] == 20
    assert map_state["ToleratedFailurePercentage"] == 10
    assert map_state["ItemBatcher"]["BatchInput"] == {
        "run.$": "$$.Execution.Name",
        "timeout.$": "$.map.batch_timeout",
    }
    child = map_state["ItemProcessor"]["States"]
    spot, on_demand = child["map_predict__batch"], child["map_predict__batch__on_demand"]
    assert spot["Parameters"]["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    assert spot["Retry"][0]["MaxAttempts"] == 1
    assert on_demand["Parameters"]["LaunchType"] == "FARGATE" and "Retry" not in on_demand
    assert spot["TimeoutSecondsPath"] == on_demand["TimeoutSecondsPath"] == "$.BatchInput.timeout"
    assert spot["OutputPath"] is None and on_demand["OutputPath"] is None
    choice = child["map_predict__batch__interrupted"]
    assert choice["Choices"][1]["Next"] == "map_predict__batch__on_demand"


def test_a_map_over_a_gpu_task_submits_one_batch_job_per_batch() -> None:
    _, map_state = _map_child("map_batch")
    (job,) = map_state["ItemProcessor"]["States"].values()
    assert job["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    names = {e["Name"] for e in job["Parameters"]["ContainerOverrides"]["Environment"]}
    assert names == {
        protocol.ENV_RUN,
        protocol.ENV_SPEC,
        protocol.ENV_NODE,
        protocol.ENV_MODE,
        protocol.ENV_ITEMS,
    }


def test_a_container_batch_larger_than_the_overrides_limit_allows_is_a_compile_error() -> None:
    spec = load_case("map_fargate")
    (node,) = spec.nodes
    assert isinstance(node, ir.MapNode)
    too_big = spec.model_copy(update={"nodes": [node.model_copy(update={"batch_size": 501})]})
    with pytest.raises(CompileError) as info:
        asl.compile_workflow(too_big)
    (problem,) = info.value.problems
    assert problem.message == (
        "map node 'map_train': batch_size=501 is more than a container batch takes (500: its "
        "indices travel in the container's environment, which ECS caps at 8 KiB)"
    )


def test_batch_nodes_compile_to_submit_job_sync() -> None:
    states = asl.compile_workflow(load_case("batch")).definition
    text = json.dumps(states)
    assert text.count('"arn:aws:states:::batch:submitJob.sync"') == 5  # embed, pretrain, join, finetune twice
    assert "ecs:runTask" not in text


def test_batch_placeholders_name_the_pool_and_the_shape() -> None:
    r = routing.route(ir.ResourcesSpec(cpu=8, memory_mib=65536, gpu=2, accelerator="nvidia-tesla-a100"))
    assert _batch.batch_queue_placeholder(r, spot=False) == "${BatchQueue_p4d_ondemand}"
    assert _batch.batch_queue_placeholder(r, spot=True) == "${BatchQueue_p4d_spot}"
    assert _batch.batch_job_definition_placeholder(r) == "${BatchJobDef_vcpu8_mem65536_gpu2}"


def test_map_node_is_prepare_then_distributed_map_then_gather() -> None:
    compiled = asl.compile_workflow(load_case("map_lambda"))
    definition = compiled.definition
    states = definition["States"]
    assert definition["StartAt"] == "map_double__prepare"
    assert list(states) == ["map_double__prepare", "map_double", "map_double__gather"]
    prepare, map_state, gather = states.values()

    def payload(mode: str) -> dict[str, object]:
        return {"run.$": "$$.Execution.Name", "spec": compiled.spec_key, "node": "map_double", "mode": mode}

    for state, mode in ((prepare, "map_prepare"), (gather, "map_gather")):
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        assert state["Parameters"] == {"FunctionName": "${TaskRunnerFunctionArn}", "Payload": payload(mode)}
        assert state["ResultPath"] is None
        # Only Lambda's own errors are retried: a gather over too many failed items is final.
        assert [r["ErrorEquals"] for r in state["Retry"]] == [list(protocol.LAMBDA_TRANSIENT_ERRORS)]
    assert prepare["Next"] == "map_double"
    assert map_state["Next"] == "map_double__gather"
    assert gather["End"] is True

    assert map_state["Type"] == "Map"
    assert map_state["ResultPath"] is None
    assert map_state["Label"] == "map_double"
    assert map_state["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {
            "Bucket": "${DataBucket}",
            "Key.$": f"States.Format('runs/{compiled.name}/{{}}/maps/map_double/items.json', $$.Execution.Name)",
        },
    }
    assert map_state["ItemBatcher"] == {"MaxItemsPerBatch": 300, "BatchInput": {"run.$": "$$.Execution.Name"}}
    assert "MaxConcurrency" not in map_state
    assert "ToleratedFailurePercentage" not in map_state
    processor = map_state["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    items = processor["States"][processor["StartAt"]]
    assert items["Parameters"]["Payload"] == {
        "run.$": "$.BatchInput.run",  # in a child, $$.Execution.Name is the child's own name
        "spec": compiled.spec_key,
        "node": "map_double",
        "mode": "map_items",
        "items.$": "$.Items",
    }
    assert [r["ErrorEquals"] for r in items["Retry"]] == [list(protocol.LAMBDA_TRANSIENT_ERRORS)]
    assert items["OutputPath"] is None  # each child's output, all the Map collects, is {}
    assert items["End"] is True
    assert compiled.placeholders == ("DataBucket", "TaskRunnerFunctionArn")


def test_map_options_become_concurrency_tolerance_and_batch_size() -> None:
    states = asl.compile_workflow(load_case("map_options")).definition["States"]
    branch = next(b for b in states["par_load_2"]["Branches"] if b["StartAt"] == "load")["States"]
    map_state = branch["map_score"]
    assert map_state["MaxConcurrency"] == 50
    assert map_state["ToleratedFailurePercentage"] == 5
    assert map_state["ItemBatcher"]["MaxItemsPerBatch"] == 7
    # The task's retries=2 apply per item inside the runner, never to the gather.
    assert all(r["ErrorEquals"] != ["States.ALL"] for r in branch["map_score__gather"]["Retry"])
    assert branch["load"]["Next"] == "map_score__prepare"
    assert states["par_load_2"]["Next"] == "summarise"


@pytest.mark.parametrize(
    ("ratio", "percentage"), [(1.0, 0), (0.99, 1), (0.95, 5), (0.9, 10), (0.955, 4), (0.5, 50), (0.0, 100)]
)
def test_tolerated_failure_percentage_is_never_more_tolerant_than_asked(
    ratio: float, percentage: int
) -> None:
    assert _map.tolerated_failure_percentage(ratio) == percentage
    assert percentage <= 100 * (1 - ratio) + 1e-9


def _map_spec(item: ir.TypeRef, **options: object) -> tuple[ir.MapNode, ir.TaskSpec]:
    here = ir.SourceLocation(path="generated.py", line=1, col=1)
    task = ir.TaskSpec(
        name="t",
        ref="generated:t",
        code_hash="0" * 16,
        inputs=(ir.Variable(name="x", type=item), ir.Variable(name="k", type=ir.TypeRef(kind="int"))),
        outputs=(ir.Variable(name="o0", type=ir.TypeRef(kind="int")),),
        location=here,
        **{k: v for k, v in options.items() if k in ("timeout_seconds", "retries")},  # type: ignore[arg-type]
    )
    node = ir.MapNode(
        id="m",
        task="t",
        inputs={},
        mapped=("x",),
        batch_size=options.get("batch_size"),  # type: ignore[arg-type]
        location=here,
    )
    return node, task


@pytest.mark.parametrize(
    ("item", "size"),
    [
        (ir.TypeRef(kind="int"), 300),
        (ir.TypeRef(kind="optional", args=(ir.TypeRef(kind="float"),)), 300),
        (ir.TypeRef(kind="str"), 25),
        (ir.TypeRef(kind="list", args=(ir.TypeRef(kind="int"),)), 25),
        (ir.TypeRef(kind="file"), 10),
        (ir.TypeRef(kind="pydantic", ref="m:Model"), 10),
    ],
)
def test_default_batch_size_follows_the_item_type(item: ir.TypeRef, size: int) -> None:
    assert _map.default_batch_size(*_map_spec(item)) == size


def test_batch_size_is_capped_by_the_express_limit_unless_explicit() -> None:
    assert _map.default_batch_size(*_map_spec(ir.TypeRef(kind="int"), timeout_seconds=10, retries=2)) == 10
    assert _map.default_batch_size(*_map_spec(ir.TypeRef(kind="int"), timeout_seconds=600)) == 1
    assert (
        _map.default_batch_size(*_map_spec(ir.TypeRef(kind="int"), timeout_seconds=600, batch_size=40)) == 40
    )


def test_items_key_is_where_the_runner_writes_items_json() -> None:
    from stratoflow.aws import S3OutputStore

    store = S3OutputStore(client=None, bucket="b", workflow="wf", run_id="RUN")  # type: ignore[arg-type]
    expected = store.map_items_key("a.b[0]")
    template = _map.items_key_format("wf", "a.b[0]")
    assert template == f"States.Format('{expected.replace('RUN', '{}')}', $$.Execution.Name)"
    odd = _map.items_key_format("wf", "it's {x}")
    assert odd == r"States.Format('runs/wf/{}/maps/it\'s \{x\}/items.json', $$.Execution.Name)"


def test_long_map_node_ids_get_a_valid_label() -> None:
    spec = load_case("map_lambda")
    long_id = "m" * 70
    node = spec.nodes[0].model_copy(update={"id": long_id})
    spec = spec.model_copy(
        update={"nodes": (node,), "output_bindings": {"o0": ir.PromiseBinding(node=long_id, output="o0")}}
    )
    label = asl.compile_workflow(spec).definition["States"][long_id]["Label"]
    assert len(label) <= 40
    assert label.replace("_", "").replace("-", "").isalnum()


def test_a_dynamic_task_must_fit_lambda() -> None:
    spec = dag_spec({"a": [], "b": ["a"]})
    big = ir.ResourcesSpec(memory_mib=30 * 1024)
    dynamic = spec.model_copy(
        update={"tasks": {"step": spec.tasks["step"].model_copy(update={"kind": "dynamic", "requests": big})}}
    )
    with pytest.raises(CompileError) as info:
        asl.compile_workflow(dynamic)
    assert [p.line for p in info.value.problems] == [2, 3]
    assert info.value.problems[0].message.startswith(
        "@dynamic task 'step' (node 'a') must fit Lambda: its body runs in the task runner"
    )


def test_a_dynamic_node_starts_the_interpreter() -> None:
    compiled = asl.compile_workflow(load_case("dynamic"))
    assert compiled.placeholders == ("DynamicInterpreterArn", "TaskRunnerFunctionArn")
    start = compiled.definition["States"]["squares"]
    assert start["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert start["Parameters"]["Name.$"] == "$.dynamic.run"


def test_internal_checks_flag_states_all_not_alone_or_last() -> None:
    definition = json.loads(asl.compile_workflow(load_case("retries_timeout")).definition_json())
    retry = definition["States"]["flaky"]["Retry"]
    retry.reverse()
    retry[0]["ErrorEquals"].append("Sdk.TaskFailed")
    assert _checks.check_definition(definition) == [
        "state 'flaky': Retry[0] uses States.ALL, which must be alone and last",
    ]
