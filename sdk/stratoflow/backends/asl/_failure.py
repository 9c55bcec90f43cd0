"""Flyte's failure handling in ASL: the ``on_failure`` node and FAIL_AFTER_EXECUTABLE_NODES_COMPLETE.

Both keep the run's own error: a ``Fail`` state re-raises the caught ``Error`` and ``Cause``
(``ErrorPath`` / ``CausePath``), so the client reports the same words as without them, and
as a local run does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stratoflow import ir
from stratoflow.backends.asl._names import StateNames
from stratoflow.backends.asl._states import (
    LAMBDA_INVOKE,
    TASK_RUNNER,
    Fragment,
    restore_input,
    retry_lambda_service,
)
from stratoflow.ir import protocol

__all__ = ["guarded_parallel", "with_error_record", "with_failure_handler"]

State = dict[str, Any]
Machine = dict[str, Any]

# Where a caught error is parked in the payload (the states it skipped left the input as is).
_ERROR = "$.error"
_FAILED = "failed"  # a guarded branch's output carries its caught error under this key
_BRANCHES = "$.branches"


def _machine(fragment: Fragment) -> Machine:
    for name in fragment.exits:
        fragment.states[name]["End"] = True
    return {"StartAt": fragment.entry, "States": fragment.states}


def _reraise(path: str) -> State:
    return {"Type": "Fail", "ErrorPath": f"{path}.Error", "CausePath": f"{path}.Cause"}


def with_failure_handler(body: Fragment, handler: Fragment, names: StateNames) -> Fragment:
    """``body``, and when it fails: ``handler`` (its own failure ignored), then the original error.

    The body runs as the one branch of a ``Parallel`` whose ``Catch`` parks the error; the
    handler runs as the one branch of another, so whatever payload its states leave, the
    parked error is still there for the final ``Fail``.
    """
    workflow = names.claim("workflow")
    on_failure = names.claim("on_failure", suffix="__run")
    failed = names.claim("on_failure", suffix="__failed")
    states: dict[str, State] = {
        workflow: {
            "Type": "Parallel",
            "Branches": [_machine(body)],
            "ResultPath": None,
            "Catch": [{"ErrorEquals": [protocol.STATES_ALL], "ResultPath": _ERROR, "Next": on_failure}],
        },
        on_failure: {
            "Type": "Parallel",
            "Branches": [_machine(handler)],
            "ResultPath": None,
            "Catch": [
                {"ErrorEquals": [protocol.STATES_ALL], "ResultPath": "$.on_failure_error", "Next": failed}
            ],
            "Next": failed,
        },
        failed: _reraise(_ERROR),
    }
    return Fragment(workflow, states, [workflow])


def with_error_record(handler: Fragment, node: ir.TaskNode, spec_key: str, names: StateNames) -> Fragment:
    """``handler`` after a runner step that stores the caught error as its ``err`` input (a FlyteError)."""
    record = names.claim(node.id, suffix="__error")
    payload = protocol.event_parameters(
        run=protocol.EXECUTION_NAME,
        spec=spec_key,
        node=node.id,
        error=protocol.Path(_ERROR),
        mode=protocol.Mode.FAILURE_RECORD,
    )
    state: State = {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": TASK_RUNNER, "Payload": payload},
        "ResultPath": None,
        "Retry": [retry_lambda_service()],
        "Next": handler.entry,
    }
    return Fragment(record, {record: state, **handler.states}, handler.exits)


def guarded_parallel(
    name: str, branches: list[Fragment], names: StateNames, machine: Callable[[Fragment], Machine] = _machine
) -> Fragment:
    """A ``Parallel`` whose branches all run to their end even when one fails, then fails with the first.

    Each branch is wrapped in a one-branch ``Parallel`` that catches its error into its
    output; a ``Choice`` after the outer ``Parallel`` re-raises the first branch's error (in
    branch order) or restores the payload.
    """
    check = names.claim(name, suffix="__check")
    done = names.claim(name, suffix="__done")
    guarded: list[Machine] = []
    states: dict[str, State] = {}
    rules: list[State] = []
    for index, branch in enumerate(branches):
        guard = names.claim(name, suffix=f"__guard_{index}")
        caught = names.claim(name, suffix=f"__caught_{index}")
        guarded.append(
            {
                "StartAt": guard,
                "States": {
                    guard: {
                        "Type": "Parallel",
                        "Branches": [machine(branch)],
                        "ResultPath": None,
                        "Catch": [
                            {
                                "ErrorEquals": [protocol.STATES_ALL],
                                "ResultPath": f"$.{_FAILED}",
                                "Next": caught,
                            }
                        ],
                        "End": True,
                    },
                    caught: {"Type": "Pass", "End": True},
                },
            }
        )
        fail = names.claim(name, suffix=f"__failed_{index}")
        states[fail] = _reraise(f"{_BRANCHES}[{index}].{_FAILED}")
        rules.append({"Variable": f"{_BRANCHES}[{index}].{_FAILED}", "IsPresent": True, "Next": fail})
    states[name] = {"Type": "Parallel", "Branches": guarded, "ResultPath": _BRANCHES, "Next": check}
    states[check] = {"Type": "Choice", "Choices": rules, "Default": done}
    states[done] = restore_input()
    return Fragment(name, states, [done])
