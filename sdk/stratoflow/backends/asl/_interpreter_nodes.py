"""The states of the interpreter's node kinds that are not a task on some compute: a nested
``@dynamic`` (plan, start the interpreter itself, finish), a map node (prepare, the interpreter
itself as a map runner, gather), a task with its own image function, and the gates. What each
does is in ``_interpreter``'s docstring; every item's input is ``{task, run, spec, workflow}``.
"""

from __future__ import annotations

from typing import Any

from stratoflow.backends.asl._dynamic import START_EXECUTION_SYNC, _invoke
from stratoflow.backends.asl._gates import LAMBDA_INVOKE_WAIT
from stratoflow.backends.asl._interpreter_ecs import catch
from stratoflow.backends.asl._map import INPUT_WORKFLOW
from stratoflow.ir import protocol

__all__ = [
    "NODE",
    "RUN",
    "SPEC",
    "WORKFLOW",
    "State",
    "dynamic_node_states",
    "gate_states",
    "image_node_state",
    "item_end",
    "item_event",
    "map_node_states",
]

State = dict[str, Any]

RUN, SPEC, NODE = protocol.Path("$.run"), protocol.Path("$.spec"), protocol.Path("$.task.node")
WORKFLOW = INPUT_WORKFLOW  # the deployed workflow whose sub-runs these are


def item_event(mode: protocol.Mode, **paths: protocol.Path) -> State:
    return protocol.event_parameters(run=RUN, spec=SPEC, node=NODE, mode=mode, **paths)


def item_end(state: State) -> State:
    # What the Map collects per node: `{}`, whatever the node did.
    return {**state, "ResultPath": None, "OutputPath": None, "End": True}


def dynamic_node_states() -> dict[str, State]:
    plan = _invoke(item_event(protocol.Mode.DYNAMIC_PLAN))
    plan.update(
        {
            "ResultSelector": protocol.result_selector(protocol.Mode.DYNAMIC_PLAN, "hit", "run", "spec"),
            "ResultPath": "$.dynamic",
            "Next": "dynamic_cached",
        }
    )
    start: State = {
        "Type": "Task",
        "Resource": START_EXECUTION_SYNC,
        "Parameters": {
            # Itself: a nested or recursive @dynamic runs in another execution of this machine.
            "StateMachineArn.$": "$$.StateMachine.Id",
            "Name.$": "$.dynamic.run",
            "Input": {
                **protocol.interpreter_input(
                    spec=protocol.Path("$.dynamic.spec"),
                    run=protocol.Path("$.dynamic.run"),
                    parent=RUN,
                    node=NODE,
                    workflow=WORKFLOW,
                ),
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
            },
        },
        "ResultPath": None,
        # The sub-workflow failed: fail with its error and cause (they name the sub-node).
        "Catch": catch("dynamic_sub_failed"),
        "Next": "dynamic_finish",
    }
    finish = _invoke(
        item_event(
            protocol.Mode.DYNAMIC_FINISH,
            sub_run=protocol.Path("$.dynamic.run"),
            sub_spec=protocol.Path("$.dynamic.spec"),
        )
    )
    return {
        "dynamic_plan": plan,
        "dynamic_cached": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.dynamic.hit", "BooleanEquals": True, "Next": "node_done"}],
            "Default": "dynamic_start",
        },
        "dynamic_start": start,
        "dynamic_sub_failed": {
            "Type": "Pass",
            "Parameters": {"sub.$": "States.StringToJson($.error.Cause)"},
            "ResultPath": "$.error",
            "Next": "dynamic_failed",
        },
        "dynamic_failed": {
            "Type": "Fail",
            "ErrorPath": "$.error.sub.Error",
            "CausePath": "$.error.sub.Cause",
        },
        "dynamic_finish": item_end(finish),
    }


def map_node_states() -> dict[str, State]:
    prepare = _invoke(item_event(protocol.Mode.MAP_PREPARE))
    prepare.update(
        {
            "ResultSelector": protocol.result_selector(
                protocol.Mode.MAP_PREPARE, "batch_size", "batch_timeout"
            ),
            "ResultPath": "$.map",
            "Next": "map_start",
        }
    )
    settings = protocol.map_run_input(
        batch_size=protocol.Path("$.map.batch_size"),
        concurrency=protocol.Path("$.task.concurrency"),
        tolerated=protocol.Path("$.task.tolerated"),
        # Which runner (Lambda batches, or containers of the node's size: a Fargate or Batch task's map).
        kind=protocol.Path("$.task.kind"),
        cpu=protocol.Path("$.task.cpu"),
        memory=protocol.Path("$.task.memory"),
        disk=protocol.Path("$.task.disk"),
        queue=protocol.Path("$.task.queue"),
        on_demand_queue=protocol.Path("$.task.on_demand_queue"),
        job_name=protocol.Path("$.task.job_name"),
        resources=protocol.Path("$.task.resources"),
        timeout=protocol.Path("$.map.batch_timeout"),
    )
    start: State = {
        "Type": "Task",
        "Resource": START_EXECUTION_SYNC,
        "Parameters": {
            # Itself, as the map runner of this node (no Name: a map node runs once per sub-run).
            "StateMachineArn.$": "$$.StateMachine.Id",
            "Input": {
                **protocol.interpreter_input(spec=SPEC, run=RUN, parent=RUN, node=NODE, workflow=WORKFLOW),
                "map": settings,
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
            },
        },
        "ResultPath": None,
        # Too many batches crashed (items' own failures are the gather's to count).
        "Catch": catch("dynamic_sub_failed"),
        "Next": "map_gather",
    }
    return {
        "map_prepare": prepare,
        "map_start": start,
        "map_gather": item_end(_invoke(item_event(protocol.Mode.MAP_GATHER))),
    }


def image_node_state() -> State:
    state = item_end(_invoke(item_event(protocol.Mode.DAG_RUN)))
    parameters = state["Parameters"]
    del parameters["FunctionName"]
    parameters["FunctionName.$"] = "$.task.function"  # an ARN the interpreter's role may invoke
    return state


def gate_states() -> dict[str, State]:
    """A dynamic graph's sleep and signal gates (a static one's are ``_gates.gate_fragment``)."""
    wait = _invoke(item_event(protocol.Mode.GATE_WAIT, token=protocol.Path("$$.Task.Token")))
    wait["Resource"] = LAMBDA_INVOKE_WAIT
    wait.update(
        {
            "TimeoutSecondsPath": "$.task.seconds",
            "Catch": [
                {"ErrorEquals": [protocol.STATES_TIMEOUT], "ResultPath": None, "Next": "gate_timed_out"}
            ],
            "Next": "gate_finish",
        }
    )
    return {
        "sleep": {"Type": "Wait", "SecondsPath": "$.task.seconds", "Next": "gate_finish"},
        "gate": wait,
        "gate_timed_out": {"Type": "Fail", "Error": protocol.GATE_TIMEOUT, "CausePath": "$.task.cause"},
        "gate_finish": item_end(_invoke(item_event(protocol.Mode.GATE_FINISH))),
    }
