"""ASL for a conditional (:class:`~stratoflow.ir.BranchNode`): decide, ``Choice``, the case, finish.

The compared values live in S3, so the runner decides (``branch_decide``: the index of the
first case whose condition holds, or the run fails for a ``.fail()`` case) and a ``Choice``
on that index enters the case's states, compiled like a workflow of their own (chains and
``Parallel``). Every case then joins at ``branch_finish``, where the runner stores the taken
case's outputs as the conditional's, and a ``Pass`` restores the execution input (the index
was parked under ``$.branch``). The untaken cases' states never run.
"""

from __future__ import annotations

from typing import Any, Protocol

from stratoflow import ir
from stratoflow.backends.asl import _graph
from stratoflow.backends.asl._names import StateNames
from stratoflow.backends.asl._states import TASK_RUNNER, Fragment, retry_lambda_service
from stratoflow.ir import protocol

__all__ = ["branch_fragment"]

_RESULT = "$.branch"


class Builder(Protocol):
    """What the compiler's builder offers: names, state names per node, and fragments of plans."""

    spec_key: str
    names: StateNames
    node_names: dict[str, str]

    def fragment(self, block: _graph.Block) -> Fragment: ...


def _runner(node: ir.BranchNode, spec_key: str, mode: protocol.Mode) -> dict[str, Any]:
    payload = protocol.event_parameters(run=protocol.EXECUTION_NAME, spec=spec_key, node=node.id, mode=mode)
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": TASK_RUNNER, "Payload": payload},
        "Retry": [retry_lambda_service()],
    }


def _case_fragment(builder: Builder, nodes: tuple[ir.Node, ...]) -> Fragment:
    ids = [node.id for node in nodes]
    inside = set(ids)
    # A case's nodes may read nodes before the conditional: those are done, so not edges here.
    plan = _graph.decompose(ids, {node.id: [up for up in node.upstream() if up in inside] for node in nodes})
    assert plan.root is not None  # noqa: S101 - only called for cases with nodes
    return builder.fragment(plan.root)


def branch_fragment(builder: Builder, node: ir.BranchNode) -> Fragment:
    """The states of one conditional; its entry is the decide state, named after the node."""
    names = builder.names
    decide = builder.node_names[node.id]
    choice = names.claim(decide, suffix="__case")
    finish = names.claim(decide, suffix="__finish")
    done = names.claim(decide, suffix="__done")
    states: dict[str, Any] = {}
    rules: list[dict[str, Any]] = []
    for index, case in enumerate(node.cases):
        if case.fail is not None:
            continue  # the decide state itself fails the run when this case is taken
        entry = finish
        if case.nodes:
            fragment = _case_fragment(builder, case.nodes)
            for name in fragment.exits:
                fragment.states[name]["Next"] = finish
            states.update(fragment.states)
            entry = fragment.entry
        rules.append({"Variable": f"{_RESULT}.case", "NumericEquals": index, "Next": entry})
    states[decide] = {
        **_runner(node, builder.spec_key, protocol.Mode.BRANCH_DECIDE),
        "ResultSelector": protocol.result_selector(protocol.Mode.BRANCH_DECIDE, "case"),
        "ResultPath": _RESULT,
        # With every case a .fail() the decide state always fails: nothing to choose.
        "Next": choice if rules else finish,
    }
    if rules:
        # The last rule is the Default: one fewer comparison, and the Choice always goes somewhere.
        states[choice] = {"Type": "Choice", "Choices": rules[:-1] or rules, "Default": rules[-1]["Next"]}
    states[finish] = {
        **_runner(node, builder.spec_key, protocol.Mode.BRANCH_FINISH),
        "ResultPath": None,
        "Next": done,
    }
    # The payload is the execution input again, as after every node (see _states).
    states[done] = {"Type": "Pass", "Parameters": {"input.$": "$$.Execution.Input"}, "OutputPath": "$.input"}
    return Fragment(decide, states, [done])
