"""Conditionals at run time: which case a BranchNode takes, and its outputs once that case ran.

One implementation for every backend: the local executor calls these directly, and on AWS
the ``branch_decide`` / ``branch_finish`` runner modes do (the state machine's ``Choice``
then reads the case index), so a condition evaluates the same everywhere.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from stratoflow import ir, values
from stratoflow.errors import TaskFailedError
from stratoflow.runtime._context import NodeContext
from stratoflow.runtime._runner import resolve_binding

__all__ = ["BRANCH_FAILED", "branch_node", "decide_branch", "finish_branch", "skipped_nodes", "untaken_nodes"]

BRANCH_FAILED = "ConditionalFailed"
"""The error type of a run that took a ``.fail("...")`` case."""

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def branch_node(ctx: NodeContext, node_id: str) -> ir.BranchNode:
    return ctx.spec.branch(node_id)


def _operand(ctx: NodeContext, binding: ir.Binding, t: ir.TypeRef) -> Any:
    return values.decode(resolve_binding(ctx, binding, t), t, ctx.blobs)


def evaluate(ctx: NodeContext, condition: ir.Comparison | ir.BoolOp) -> bool:
    """Whether ``condition`` holds on this run's values (``&``/``|`` short-circuit like Python's)."""
    if isinstance(condition, ir.BoolOp):
        left = evaluate(ctx, condition.left)
        if condition.kind == "and":
            return left and evaluate(ctx, condition.right)
        return left or evaluate(ctx, condition.right)
    left_value = _operand(ctx, condition.left, condition.left_type)
    if condition.op == "is_none":
        return left_value is None
    if condition.op == "is_true":
        return left_value is True
    if condition.op == "is_false":
        return left_value is False
    assert condition.right is not None and condition.right_type is not None  # noqa: S101 - binary op
    right_value = _operand(ctx, condition.right, condition.right_type)
    if condition.op not in ("eq", "ne") and (left_value is None or right_value is None):
        return False  # an Optional that is None is not ordered against anything
    return _OPERATORS[condition.op](left_value, right_value)


def decide_branch(ctx: NodeContext, node_id: str) -> int:
    """The index of the case the conditional takes; a taken ``.fail()`` case fails the node."""
    node = branch_node(ctx, node_id)
    for index, case in enumerate(node.cases):
        if case.condition is None or evaluate(ctx, case.condition):
            if case.fail is not None:
                raise TaskFailedError(
                    f"conditional '{node.name}' failed: {case.fail}", node=node_id, error_type=BRANCH_FAILED
                )
            return index
    # Definitions always end with else_(); a spec without one has no case to take.
    raise TaskFailedError(
        f"conditional '{node.name}' matched no case", node=node_id, error_type=BRANCH_FAILED
    )


def finish_branch(ctx: NodeContext, node_id: str, case: int | None = None) -> None:
    """Store the conditional's outputs: the taken case's values (its nodes have run)."""
    node = branch_node(ctx, node_id)
    index = decide_branch(ctx, node_id) if case is None else case
    taken = node.cases[index]
    outputs = {v.name: resolve_binding(ctx, taken.outputs[v.name], v.type) for v in node.outputs}
    ctx.outputs.write_outputs(node_id, outputs)


def skipped_nodes(node: ir.BranchNode, case: int) -> list[str]:
    """Ids of the nodes in the cases not taken (nested conditionals' included)."""
    skipped: list[str] = []
    for index, other in enumerate(node.cases):
        if index == case:
            continue
        for inner in other.nodes:
            skipped.append(inner.id)
            if isinstance(inner, ir.BranchNode):
                skipped.extend(n.id for n in inner.inner_nodes())
    return skipped


def untaken_nodes(spec: ir.WorkflowSpec, completed: set[str]) -> list[str]:
    """The skipped nodes of a finished run, from the nodes whose outputs it stored (remote runs).

    Every node inside a conditional that stored no outputs was in a case not taken (a node
    that ran and failed would have failed the run).
    """
    inner = {node.id for node in spec.all_nodes()} - {node.id for node in spec.nodes}
    if spec.on_failure is not None:  # not in a conditional: it runs only when the run fails
        inner.discard(spec.on_failure.id)
    return sorted(inner - completed)
