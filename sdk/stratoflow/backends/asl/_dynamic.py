"""ASL for ``@dynamic`` nodes and the one generic state machine that runs their sub-workflows.

A dynamic node becomes four states (plus two to surface a failure):

1. ``<node>__plan`` (``Mode.DYNAMIC_PLAN``) looks the node up in the cache; on a miss
   it runs the body on the real inputs, stores the sub-workflow's IR content-addressed
   (``protocol.dynamic_spec_key``) and its inputs under the sub run's prefix, and returns
   a ``protocol.DynamicPlanResult`` (parked at ``$.dynamic``).
2. ``<node>__cached`` skips to ``<node>__done`` on a hit.
3. ``<node>`` starts the interpreter (``Placeholder.DYNAMIC_INTERPRETER_ARN``) with
   ``states:startExecution.sync:2``, the execution named after the sub run (so a retried
   start finds the same execution), and waits for it.
4. ``<node>__finish`` (``Mode.DYNAMIC_FINISH``) copies the sub-workflow's outputs to the node's
   and caches them; ``<node>__done`` restores the execution input.

The interpreter that runs the sub-workflow is ``_interpreter.interpreter_definition``.
"""

from __future__ import annotations

from typing import Any, Final

from stratoflow import ir
from stratoflow.backends.asl._map import spec_workflow_literal
from stratoflow.backends.asl._names import StateNames
from stratoflow.backends.asl._states import LAMBDA_INVOKE, TASK_RUNNER, retry_lambda_service, runner_function
from stratoflow.ir import protocol

__all__ = [
    "INTERPRETER",
    "START_EXECUTION_SYNC",
    "dynamic_states",
]

State = dict[str, Any]

START_EXECUTION_SYNC: Final = "arn:aws:states:::states:startExecution.sync:2"
INTERPRETER: Final = protocol.ref(protocol.Placeholder.DYNAMIC_INTERPRETER_ARN)
"""The generic DAG-interpreter state machine (a deploy-time placeholder)."""


def _invoke(payload: State, *, retry: list[State] | None = None, function: str = TASK_RUNNER) -> State:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": function, "Payload": payload},
        "ResultPath": None,
        "Retry": retry if retry is not None else [retry_lambda_service()],
    }


def _task_retry(task: ir.TaskSpec) -> list[State]:
    retry = [retry_lambda_service()]
    if task.retries > 0:
        retry.append(
            {
                "ErrorEquals": [protocol.STATES_ALL],
                "MaxAttempts": task.retries,
                "IntervalSeconds": 1,
                "BackoffRate": 2.0,
                "JitterStrategy": "FULL",
            }
        )
    return retry


def dynamic_states(
    node: ir.TaskNode, task: ir.TaskSpec, *, spec_key: str, state_name: str, names: StateNames
) -> tuple[str, dict[str, State], str]:
    """The states of one dynamic node: returns (entry, states, exit).

    Args:
        node: The dynamic node (its task routes to Lambda; the caller checked).
        task: The dynamic task.
        spec_key: S3 key of the workflow IR.
        state_name: The start-execution state's name (the node's own id, claimed by the caller).
        names: The definition-wide name registry.
    """
    plan = names.claim(state_name, suffix="__plan")
    cached = names.claim(state_name, suffix="__cached")
    finish = names.claim(state_name, suffix="__finish")
    done = names.claim(state_name, suffix="__done")
    failed = names.claim(state_name, suffix="__failed")
    parse = names.claim(state_name, suffix="__sub_failed")

    def payload(mode: protocol.Mode, **paths: protocol.Path) -> State:
        return protocol.event_parameters(
            run=protocol.EXECUTION_NAME, spec=spec_key, node=node.id, mode=mode, **paths
        )

    # The plan runs the @dynamic body: on its image's function when it has one.
    plan_state = _invoke(
        payload(protocol.Mode.DYNAMIC_PLAN), retry=_task_retry(task), function=runner_function(task)
    )
    plan_state.update(
        {
            "ResultSelector": protocol.result_selector(protocol.Mode.DYNAMIC_PLAN, "hit", "run", "spec"),
            "ResultPath": "$.dynamic",
            "Next": cached,
        }
    )
    choice: State = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.dynamic.hit", "BooleanEquals": True, "Next": done}],
        "Default": state_name,
    }
    start: State = {
        "Type": "Task",
        "Resource": START_EXECUTION_SYNC,
        "Parameters": {
            "StateMachineArn": INTERPRETER,
            "Name.$": "$.dynamic.run",
            "Input": {
                **protocol.interpreter_input(
                    spec=protocol.Path("$.dynamic.spec"),
                    run=protocol.Path("$.dynamic.run"),
                    parent=protocol.EXECUTION_NAME,
                    node=node.id,
                    workflow=spec_workflow_literal(spec_key),
                ),
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
            },
        },
        "ResultPath": None,
        # The sub-workflow failed: fail with its error and cause (they name the sub-node).
        "Catch": [{"ErrorEquals": [protocol.STATES_TASK_FAILED], "ResultPath": "$.error", "Next": parse}],
        "Next": finish,
    }
    if task.timeout_seconds is not None:
        start["TimeoutSeconds"] = task.timeout_seconds
    parse_state: State = {
        "Type": "Pass",
        "Parameters": {"sub.$": "States.StringToJson($.error.Cause)", "cause.$": "$.error.Cause"},
        "ResultPath": "$.error",
        "Next": failed,
    }
    fail_state: State = {"Type": "Fail", "ErrorPath": "$.error.sub.Error", "CausePath": "$.error.sub.Cause"}
    finish_state = _invoke(
        payload(
            protocol.Mode.DYNAMIC_FINISH,
            sub_run=protocol.Path("$.dynamic.run"),
            sub_spec=protocol.Path("$.dynamic.spec"),
        )
    )
    finish_state["Next"] = done
    done_state: State = {
        "Type": "Pass",
        "Parameters": {"input.$": "$$.Execution.Input"},
        "OutputPath": "$.input",
    }
    states = {
        plan: plan_state,
        cached: choice,
        state_name: start,
        parse: parse_state,
        failed: fail_state,
        finish: finish_state,
        done: done_state,
    }
    return plan, states, done
