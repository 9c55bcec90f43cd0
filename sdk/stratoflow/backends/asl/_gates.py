"""ASL for Flyte's gates: ``sleep`` is a ``Wait`` state between two runner steps, which record its
start and end (as a local run's record says: without them a sleep that ran read as skipped);
``wait_for_input`` and ``approve`` are a ``lambda:invoke.waitForTaskToken`` state (the runner
keeps the token under the run, where ``stratoflow signal`` / ``approve`` find it, and records the
wait's start) followed by a runner step that stores the gate's output from the signal. No signal
within the timeout fails the run with the gate's own error, in the words a local run uses (a
``FailureCause`` known when compiling).
"""

from __future__ import annotations

from typing import Any

from stratoflow import ir
from stratoflow.backends.asl._names import StateNames
from stratoflow.backends.asl._states import LAMBDA_INVOKE, TASK_RUNNER, Fragment, retry_lambda_service
from stratoflow.ir import protocol

__all__ = ["LAMBDA_INVOKE_WAIT", "gate_fragment"]

LAMBDA_INVOKE_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def gate_fragment(gate: ir.GateNode, *, spec_key: str, state_name: str, names: StateNames) -> Fragment:
    """The states of one gate node; its entry is named after the node."""
    if gate.gate == "sleep":
        return _sleep_fragment(gate, spec_key=spec_key, state_name=state_name, names=names)
    finish = names.claim(state_name, suffix="__finish")
    timed_out = names.claim(state_name, suffix="__timed_out")
    wait_payload = protocol.event_parameters(
        run=protocol.EXECUTION_NAME,
        spec=spec_key,
        node=gate.id,
        token=protocol.Path("$$.Task.Token"),
        mode=protocol.Mode.GATE_WAIT,
    )
    message = protocol.gate_timeout_message(gate.gate, gate.name, gate.seconds)
    cause = protocol.FailureCause(node=gate.id, attempt=1, error=protocol.GATE_TIMEOUT, message=message)
    states: dict[str, Any] = {
        state_name: {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE_WAIT,
            "Parameters": {"FunctionName": TASK_RUNNER, "Payload": wait_payload},
            "TimeoutSeconds": gate.seconds,
            "ResultPath": None,
            "Retry": [retry_lambda_service()],
            "Catch": [{"ErrorEquals": [protocol.STATES_TIMEOUT], "ResultPath": None, "Next": timed_out}],
            "Next": finish,
        },
        finish: _runner_step(gate, spec_key, protocol.Mode.GATE_FINISH),
        timed_out: {"Type": "Fail", "Error": protocol.GATE_TIMEOUT, "Cause": cause.to_json()},
    }
    return Fragment(state_name, states, [finish])


def _sleep_fragment(gate: ir.GateNode, *, spec_key: str, state_name: str, names: StateNames) -> Fragment:
    """A sleep: ``gate_wait`` records its start, a ``Wait`` sleeps, ``gate_finish`` records its end."""
    wait = names.claim(state_name, suffix="__wait")
    finish = names.claim(state_name, suffix="__finish")
    states: dict[str, Any] = {
        state_name: {**_runner_step(gate, spec_key, protocol.Mode.GATE_WAIT), "Next": wait},
        wait: {"Type": "Wait", "Seconds": gate.seconds, "Next": finish},
        finish: _runner_step(gate, spec_key, protocol.Mode.GATE_FINISH),
    }
    return Fragment(state_name, states, [finish])


def _runner_step(gate: ir.GateNode, spec_key: str, mode: protocol.Mode) -> dict[str, Any]:
    """A runner invocation of ``mode`` for ``gate`` that leaves the state's data as it was."""
    payload = protocol.event_parameters(run=protocol.EXECUTION_NAME, spec=spec_key, node=gate.id, mode=mode)
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": TASK_RUNNER, "Payload": payload},
        "ResultPath": None,
        "Retry": [retry_lambda_service()],
    }
