"""The @dynamic interpreter state machine: sound, deterministic, and accepted by both npm validators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stratoflow.backends import asl
from stratoflow.backends.asl import _checks, _interpreter
from stratoflow.ir import protocol
from tests.compile.test_asl_validators import TOOLS, _node_modules


def test_the_interpreter_loops_dag_next_and_an_inline_map() -> None:
    definition = asl.interpreter_definition()
    assert _checks.check_definition(definition) == []
    states = definition["States"]
    assert states["run_nodes"]["Next"] == "next"
    assert states["run_nodes"]["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert states["run_nodes"]["MaxConcurrency"] == _interpreter.DAG_CONCURRENCY
    # The runner and the generic dynamic compute; no ARN of the interpreter itself.
    assert protocol.placeholders_in(json.dumps(definition)) == {
        protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN,
        protocol.Placeholder.DATA_BUCKET,
        protocol.Placeholder.CLUSTER_ARN,
        *protocol.SUBNETS,
        protocol.Placeholder.TASK_SECURITY_GROUP,
        protocol.Placeholder.DYNAMIC_TASK_DEFINITION,
        protocol.Placeholder.DYNAMIC_JOB_DEFINITION,
    }
    assert asl.interpreter_definition() == definition


def test_each_item_dispatches_on_its_kind_and_a_dynamic_node_starts_the_interpreter_itself() -> None:
    items = asl.interpreter_definition()["States"]["run_nodes"]["ItemProcessor"]
    assert items["StartAt"] == "dispatch"
    choices = items["States"]["dispatch"]["Choices"]
    assert {c["StringEquals"] for c in choices} == {k.value for k in protocol.Dispatch} - {"lambda"}
    assert items["States"]["dispatch"]["Default"] == "run_node"
    start = items["States"]["dynamic_start"]["Parameters"]
    assert start["StateMachineArn.$"] == "$$.StateMachine.Id" and start["Name.$"] == "$.dynamic.run"
    overrides = items["States"]["fargate"]["Parameters"]["Overrides"]
    assert (overrides["Cpu.$"], overrides["Memory.$"]) == ("$.task.cpu", "$.task.memory")
    env = overrides["ContainerOverrides"][0]["Environment"]
    assert {"Name": protocol.ENV_MODE, "Value": protocol.Mode.DAG_RUN.value} in env
    # A reclaimed Spot attempt runs once more on on-demand capacity.
    assert items["States"]["fargate_spot_reclaimed"]["Choices"][1]["Next"] == "fargate"
    assert items["States"]["batch_spot_reclaimed"]["Choices"][1]["Next"] == "batch"


def test_a_lambda_image_node_invokes_the_function_its_item_names() -> None:
    items = asl.interpreter_definition()["States"]["run_nodes"]["ItemProcessor"]["States"]
    choice = {c["StringEquals"]: c["Next"] for c in items["dispatch"]["Choices"]}
    assert choice[protocol.Dispatch.LAMBDA_IMAGE.value] == "run_image_node"
    state = items["run_image_node"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke"
    # The function's ARN comes from the item (dag_next's DagNode.function), not a placeholder.
    assert state["Parameters"]["FunctionName.$"] == "$.task.function"
    assert "FunctionName" not in state["Parameters"]
    assert state["Parameters"]["Payload"] == {
        "run.$": "$.run",
        "spec.$": "$.spec",
        "node.$": "$.task.node",
        "mode": protocol.Mode.DAG_RUN.value,
    }
    assert state["End"] is True and state["ResultPath"] is None
    assert [r["ErrorEquals"] for r in state["Retry"]] == [list(protocol.LAMBDA_TRANSIENT_ERRORS)]
    # A stack with no image function for its dynamic graphs leaves the state and its choice out.
    bare = asl.interpreter_definition(fargate=False, batch=False, images=False)
    bare_items = bare["States"]["run_nodes"]["ItemProcessor"]["States"]
    assert "run_image_node" not in bare_items
    assert protocol.Dispatch.LAMBDA_IMAGE.value not in {
        c["StringEquals"] for c in bare_items["dispatch"]["Choices"]
    }
    assert _checks.check_definition(bare) == []


def test_a_fargate_image_node_runs_the_task_definition_its_item_names() -> None:
    items = asl.interpreter_definition()["States"]["run_nodes"]["ItemProcessor"]["States"]
    choice = {c["StringEquals"]: c["Next"] for c in items["dispatch"]["Choices"]}
    assert choice[protocol.Dispatch.FARGATE_IMAGE.value] == "fargate_image"
    assert choice[protocol.Dispatch.FARGATE_IMAGE_SPOT.value] == "fargate_image_spot"
    for name in ("fargate_image", "fargate_image_spot"):
        parameters = items[name]["Parameters"]
        assert parameters["TaskDefinition.$"] == "$.task.task_definition"
        assert "TaskDefinition" not in parameters
        # Otherwise the generic state's: the node's sizes as overrides, the event in the environment.
        generic = items[name.replace("_image", "")]["Parameters"]
        assert parameters["Overrides"] == generic["Overrides"]
        assert parameters["NetworkConfiguration"] == generic["NetworkConfiguration"]
    assert "CapacityProviderStrategy" in items["fargate_image_spot"]["Parameters"]
    assert items["fargate_image"]["Parameters"]["LaunchType"] == "FARGATE"
    # A reclaimed Spot attempt runs once more on on-demand Fargate, in the same image.
    assert items["fargate_image_spot"]["Catch"][0]["Next"] == "fargate_image_spot_failed"
    assert items["fargate_image_spot_reclaimed"]["Choices"][1]["Next"] == "fargate_image"
    # No Fargate in the stack: no Fargate image states, whatever images it has.
    lambda_only = asl.interpreter_definition(fargate=False, batch=False, images=True)
    assert "fargate_image" not in lambda_only["States"]["run_nodes"]["ItemProcessor"]["States"]
    assert _checks.check_definition(lambda_only) == []


def test_a_map_node_starts_the_interpreter_itself_as_a_distributed_map_runner() -> None:
    definition = asl.interpreter_definition(fargate=False, batch=False)
    items = definition["States"]["run_nodes"]["ItemProcessor"]["States"]
    assert items["map_prepare"]["Next"] == "map_start" and items["map_start"]["Next"] == "map_gather"
    start = items["map_start"]["Parameters"]
    assert start["StateMachineArn.$"] == "$$.StateMachine.Id"
    assert start["Input"]["map"] == {
        "batch_size.$": "$.map.batch_size",
        "concurrency.$": "$.task.concurrency",
        "tolerated.$": "$.task.tolerated",
        # Which runner, and a Fargate map's container size or a Batch map's queues and job
        # (a Lambda map's DagNode has defaults).
        "kind.$": "$.task.kind",
        "cpu.$": "$.task.cpu",
        "memory.$": "$.task.memory",
        "disk.$": "$.task.disk",
        "queue.$": "$.task.queue",
        "on_demand_queue.$": "$.task.on_demand_queue",
        "job_name.$": "$.task.job_name",
        "resources.$": "$.task.resources",
        "timeout.$": "$.map.batch_timeout",  # map_prepare's, for a container map's batches
    }
    # A map runner's input has `map`: its execution is the Distributed Map alone, at top level.
    assert definition["StartAt"] == "start"
    assert definition["States"]["start"]["Choices"][0] == {
        "Variable": "$.map",
        "IsPresent": True,
        "Next": "map_run",
    }
    map_run = definition["States"]["map_run"]
    assert map_run["End"] is True
    assert map_run["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert map_run["ItemReader"]["Parameters"]["Key.$"] == (
        "States.Format('runs/{}/{}/maps/{}/items.json', $.workflow, $.run, $.node)"
    )
    assert map_run["ItemBatcher"]["MaxItemsPerBatchPath"] == "$.map.batch_size"
    child = map_run["ItemProcessor"]["States"]["map_items"]["Parameters"]["Payload"]
    assert (child["run.$"], child["spec.$"], child["node.$"]) == (
        "$.BatchInput.run",
        "$.BatchInput.spec",
        "$.BatchInput.node",
    )
    assert _checks.check_definition(definition) == []


def test_a_fargate_map_runner_runs_each_batch_in_a_container_of_the_nodes_size() -> None:
    definition = asl.interpreter_definition()
    states = definition["States"]
    items = states["run_nodes"]["ItemProcessor"]["States"]
    dispatched = {c["StringEquals"]: c["Next"] for c in items["dispatch"]["Choices"]}
    assert dispatched["map_fargate"] == dispatched["map_fargate_spot"] == dispatched["map"] == "map_prepare"
    # A map runner's input has `map`: its kind picks the Distributed Map.
    assert states["start"]["Choices"][0]["Next"] == "map_kind"
    assert {c["StringEquals"]: c["Next"] for c in states["map_kind"]["Choices"]} == {
        "map_fargate": "map_run_fargate",
        "map_fargate_spot": "map_run_fargate_spot",
        "map_batch": "map_run_batch",
        "map_batch_spot": "map_run_batch_spot",
    }
    assert states["map_kind"]["Default"] == "map_run"
    for name in ("map_run_fargate", "map_run_fargate_spot"):
        runner = states[name]
        assert runner["End"] is True
        assert runner["ItemProcessor"]["ProcessorConfig"] == {
            "Mode": "DISTRIBUTED",
            "ExecutionType": "STANDARD",
        }
        assert runner["ItemBatcher"]["MaxItemsPerBatchPath"] == "$.map.batch_size"  # map_prepare's
        assert runner["ItemBatcher"]["BatchInput"] == {
            "run.$": "$.run",
            "spec.$": "$.spec",
            "node.$": "$.node",
            "cpu.$": "$.map.cpu",
            "memory.$": "$.map.memory",
            "disk.$": "$.map.disk",
            "timeout.$": "$.map.timeout",
        }
        children = runner["ItemProcessor"]["States"]
        # A batch's limit only when the task has a timeout (0: TimeoutSecondsPath cannot take it).
        assert runner["ItemProcessor"]["StartAt"] == f"{name}_limited"
        limited = children[f"{name}_limited"]
        (rule,) = limited["Choices"]
        assert (rule["Variable"], rule["NumericGreaterThan"]) == ("$.BatchInput.timeout", 0)
        timed_entry, untimed_entry = rule["Next"], limited["Default"]
        assert (timed_entry, untimed_entry) == (
            (f"{name}_timed_batch_spot", f"{name}_batch_spot")
            if "spot" in name
            else (f"{name}_timed_batch", f"{name}_batch")
        )
        timed = [c for n, c in children.items() if n.startswith(f"{name}_timed_") and c["Type"] == "Task"]
        assert timed and all(c["TimeoutSecondsPath"] == "$.BatchInput.timeout" for c in timed)
        untimed = [
            c for n, c in children.items() if not n.startswith(f"{name}_timed_") and c["Type"] == "Task"
        ]
        assert untimed and not any("TimeoutSecondsPath" in c or "TimeoutSeconds" in c for c in untimed)
        batch = children[f"{name}_batch"]
        assert (batch["Resource"], batch["OutputPath"], batch["End"]) == (
            "arn:aws:states:::ecs:runTask.sync",
            None,
            True,
        )
        parameters = batch["Parameters"]
        assert parameters["LaunchType"] == "FARGATE"
        assert parameters["TaskDefinition"] == protocol.ref(protocol.Placeholder.DYNAMIC_TASK_DEFINITION)
        overrides = parameters["Overrides"]
        assert (overrides["Cpu.$"], overrides["Memory.$"]) == ("$.BatchInput.cpu", "$.BatchInput.memory")
        assert overrides["EphemeralStorage"] == {"SizeInGiB.$": "$.BatchInput.disk"}
        environment = {
            e["Name"]: e.get("Value", e.get("Value.$"))
            for e in overrides["ContainerOverrides"][0]["Environment"]
        }
        assert environment == {
            protocol.ENV_RUN: "$.BatchInput.run",
            protocol.ENV_SPEC: "$.BatchInput.spec",
            protocol.ENV_NODE: "$.BatchInput.node",
            protocol.ENV_MODE: "map_items",
            protocol.ENV_ITEMS: "States.JsonToString($.Items)",
        }
    spot = states["map_run_fargate_spot"]["ItemProcessor"]
    first = spot["States"]["map_run_fargate_spot_batch_spot"]
    assert first["Parameters"]["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    reclaimed = spot["States"]["map_run_fargate_spot_batch_spot_reclaimed"]["Choices"][1]
    assert (reclaimed["StringEquals"], reclaimed["Next"]) == (
        "SpotInterruption",
        "map_run_fargate_spot_batch",
    )
    # No Fargate in the stack: no container map runner, and no map_fargate dispatch.
    bare = asl.interpreter_definition(fargate=False, batch=False, images=False)
    assert "map_kind" not in bare["States"] and bare["States"]["start"]["Choices"][0]["Next"] == "map_run"
    bare_items = bare["States"]["run_nodes"]["ItemProcessor"]["States"]["dispatch"]["Choices"]
    assert "map_fargate" not in {c["StringEquals"] for c in bare_items}
    assert _checks.check_definition(definition) == [] and _checks.check_definition(bare) == []


def test_a_batch_map_runner_submits_each_batch_as_a_job_on_the_nodes_queue() -> None:
    definition = asl.interpreter_definition()
    states = definition["States"]
    items = states["run_nodes"]["ItemProcessor"]["States"]
    dispatched = {c["StringEquals"]: c["Next"] for c in items["dispatch"]["Choices"]}
    assert dispatched["map_batch"] == dispatched["map_batch_spot"] == "map_prepare"
    # The runner's input carries the node's queues, job name and resources (dag_next's DagNode).
    start = items["map_start"]["Parameters"]["Input"]["map"]
    assert {k: start[k] for k in ("queue.$", "on_demand_queue.$", "job_name.$", "resources.$")} == {
        "queue.$": "$.task.queue",
        "on_demand_queue.$": "$.task.on_demand_queue",
        "job_name.$": "$.task.job_name",
        "resources.$": "$.task.resources",
    }
    for name, spot in (("map_run_batch", False), ("map_run_batch_spot", True)):
        runner = states[name]
        assert runner["ItemProcessor"]["ProcessorConfig"] == {
            "Mode": "DISTRIBUTED",
            "ExecutionType": "STANDARD",
        }
        batch_input = runner["ItemBatcher"]["BatchInput"]
        assert {k: batch_input[k] for k in ("queue.$", "resources.$", "timeout.$")} == {
            "queue.$": "$.map.queue",
            "resources.$": "$.map.resources",
            "timeout.$": "$.map.timeout",
        }
        children = runner["ItemProcessor"]["States"]
        on_demand = children[f"{name}_batch"]
        assert (on_demand["Resource"], on_demand["OutputPath"], on_demand["End"]) == (
            "arn:aws:states:::batch:submitJob.sync",
            None,
            True,
        )
        parameters = on_demand["Parameters"]
        assert parameters["JobQueue.$"] == "$.BatchInput.on_demand_queue"
        assert parameters["JobName.$"] == "$.BatchInput.job_name"
        assert parameters["JobDefinition"] == protocol.ref(protocol.Placeholder.DYNAMIC_JOB_DEFINITION)
        overrides = parameters["ContainerOverrides"]
        assert overrides["ResourceRequirements.$"] == "$.BatchInput.resources"
        environment = {e["Name"]: e.get("Value", e.get("Value.$")) for e in overrides["Environment"]}
        assert (environment[protocol.ENV_MODE], environment[protocol.ENV_ITEMS]) == (
            "map_items",
            "States.JsonToString($.Items)",
        )
        timed = children[f"{name}_timed_batch"]
        assert timed["TimeoutSecondsPath"] == "$.BatchInput.timeout" and "TimeoutSecondsPath" not in on_demand
        assert (f"{name}_batch_spot" in children) is spot
    first = states["map_run_batch_spot"]["ItemProcessor"]["States"]["map_run_batch_spot_batch_spot"]
    assert first["Parameters"]["JobQueue.$"] == "$.BatchInput.queue"
    reclaimed = states["map_run_batch_spot"]["ItemProcessor"]["States"][
        "map_run_batch_spot_batch_spot_reclaimed"
    ]
    assert (reclaimed["Choices"][1]["StringMatches"], reclaimed["Choices"][1]["Next"]) == (
        protocol.SPOT_RECLAIM_STATUS_REASON,
        "map_run_batch_spot_batch",
    )
    # Batch without Fargate: the batch runners alone; neither: no container runner at all.
    batch_only = asl.interpreter_definition(fargate=False, batch=True, images=False)["States"]
    assert {c["Next"] for c in batch_only["map_kind"]["Choices"]} == {"map_run_batch", "map_run_batch_spot"}
    assert "map_run_fargate" not in batch_only
    fargate_only = asl.interpreter_definition(fargate=True, batch=False, images=False)["States"]
    assert "map_run_batch" not in fargate_only
    fargate_items = fargate_only["run_nodes"]["ItemProcessor"]["States"]["dispatch"]["Choices"]
    assert "map_batch" not in {c["StringEquals"] for c in fargate_items}


def test_the_interpreter_passes_the_npm_validators(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the ASL validators are npm packages")
    _node_modules()
    path = tmp_path / "interpreter.asl.json"
    path.write_text(json.dumps(asl.interpreter_definition(), indent=2, sort_keys=True))
    env = {**os.environ, "NODE_PATH": str(TOOLS / "node_modules")}
    result = subprocess.run(
        [node, str(TOOLS / "validate_asl.js"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK "), result.stdout


def test_a_gate_in_a_dynamic_graph_waits_as_a_static_one_with_its_seconds_from_the_item() -> None:
    items = asl.interpreter_definition()["States"]["run_nodes"]["ItemProcessor"]["States"]
    choice = {c["StringEquals"]: c["Next"] for c in items["dispatch"]["Choices"]}
    assert (choice["sleep"], choice["gate"]) == ("sleep", "gate")
    assert items["sleep"] == {"Type": "Wait", "SecondsPath": "$.task.seconds", "Next": "gate_finish"}
    wait = items["gate"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["TimeoutSecondsPath"] == "$.task.seconds"
    assert wait["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert wait["Parameters"]["Payload"]["mode"] == protocol.Mode.GATE_WAIT.value
    assert wait["Catch"] == [
        {"ErrorEquals": [protocol.STATES_TIMEOUT], "ResultPath": None, "Next": "gate_timed_out"}
    ]
    assert items["gate_timed_out"] == {
        "Type": "Fail",
        "Error": protocol.GATE_TIMEOUT,
        "CausePath": "$.task.cause",
    }
    assert items["gate_finish"]["Parameters"]["Payload"]["mode"] == protocol.Mode.GATE_FINISH.value
    assert items["gate_finish"]["End"] is True
