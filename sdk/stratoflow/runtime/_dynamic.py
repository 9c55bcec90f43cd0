"""Running a ``@dynamic`` node: trace its body on real inputs into a sub-workflow, then, once
the backend has run that sub-workflow, store its outputs as the node's outputs.

Both halves are shared by the backends: locally the executor runs the sub-workflow in
between on its own scheduler; on AWS a generic interpreter state machine does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratoflow import ir
from stratoflow.define import resolve_task, trace_dynamic
from stratoflow.errors import DefinitionError, TaskFailedError
from stratoflow.lower import lower
from stratoflow.runtime._boundary import call_user
from stratoflow.runtime._runner import (
    NodeContext,
    _decode_inputs,
    attempt_scope,
    node_inputs,
    workflow_outputs,
)
from stratoflow.values import LiteralRef

__all__ = [
    "DAG_BATCH",
    "DynamicPlan",
    "dynamic_cache_key",
    "finish_dynamic",
    "plan_dynamic",
    "prefix_spec",
    "ready_nodes",
    "sub_run_id",
]


@dataclass(frozen=True)
class DynamicPlan:
    """What a dynamic node's body produced: a cache hit (``cached``) or a sub-workflow to run."""

    node: str
    inputs: dict[str, LiteralRef]
    key: str | None
    spec: ir.WorkflowSpec | None = None
    cached: dict[str, LiteralRef] | None = None


DAG_BATCH = 200
"""At most this many node ids per interpreter round (``Mode.DAG_NEXT``): payloads stay under ~20 KB."""

_MAX_RUN_ID = 80  # a Step Functions execution name


def sub_run_id(run_id: str, node_id: str) -> str:
    """The run id of a dynamic node's sub-workflow (its outputs never meet the parent's).

    On AWS it names the interpreter execution, so it is at most 80 characters: a long one
    keeps its start and ends with a hash of the whole.
    """
    run = f"{run_id}.{node_id}"
    if len(run) <= _MAX_RUN_ID:
        return run
    digest = hashlib.sha256(run.encode()).hexdigest()[:24]
    return f"{run[: _MAX_RUN_ID - len(digest) - 1]}-{digest}"


def dynamic_cache_key(ctx: NodeContext, node_id: str) -> str | None:
    """The dynamic node's cache key, or None when it is not cached (as :func:`plan_dynamic`)."""
    node, task = _dynamic_task(ctx, node_id)
    cache = ctx.node_cache(task)
    return cache.key(node_inputs(ctx, node, task)) if cache.enabled else None


def ready_nodes(ctx: NodeContext, done: set[str], *, limit: int) -> tuple[list[str], bool]:
    """The nodes of the dynamic graph ``ctx.spec`` that can run now (all upstream done, not done
    themselves), at most ``limit``, in spec order; and whether every node is done.

    A conditional (a sub-workflow the body calls may have one) is decided once what it reads is
    done: its taken case's nodes are then nodes of the graph, and once they are done its outputs
    are stored here, which makes it done. Deciding again each round gives the same case (the
    values compared cannot change); a taken ``.fail()`` case fails the graph with its message.
    """
    from stratoflow.runtime._branch import decide_branch, finish_branch  # noqa: PLC0415 - AWS only

    ready: list[str] = []

    def walk(nodes: Sequence[ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode]) -> bool:
        for node in nodes:  # in spec order, which is topological: a finished conditional frees later nodes
            if node.id in done or not all(up in done for up in node.upstream()):
                continue
            if isinstance(node, ir.BranchNode):
                case = decide_branch(ctx, node.id)
                if walk(node.cases[case].nodes):
                    finish_branch(ctx, node.id, case)
                    done.add(node.id)
            else:
                ready.append(node.id)
        return all(node.id in done for node in nodes)

    finished = walk(ctx.spec.nodes)
    if not finished and not ready:
        raise RuntimeError(f"dynamic graph '{ctx.spec.name}' is stuck: no node can run (is it a DAG?)")
    return ready[:limit], finished


def _remap(binding: ir.Binding, prefix: str) -> ir.Binding:
    if isinstance(binding, ir.PromiseBinding):
        return ir.PromiseBinding.trusted(node=prefix + binding.node, output=binding.output)
    if isinstance(binding, ir.ListBinding):
        return ir.ListBinding.trusted(items=tuple(_remap(item, prefix) for item in binding.items))
    if isinstance(binding, ir.DictBinding):
        return ir.DictBinding.trusted(entries={k: _remap(v, prefix) for k, v in binding.entries.items()})
    if isinstance(binding, ir.ElementBinding):
        return binding.model_copy(update={"of": _remap(binding.of, prefix)})
    return binding


def _prefix_condition(condition: ir.Condition | None, prefix: str) -> ir.Condition | None:
    if condition is None:
        return None
    if isinstance(condition, ir.Comparison):
        right = None if condition.right is None else _remap(condition.right, prefix)
        return condition.model_copy(update={"left": _remap(condition.left, prefix), "right": right})
    return condition.model_copy(
        update={
            "left": _prefix_condition(condition.left, prefix),
            "right": _prefix_condition(condition.right, prefix),
        }
    )


def _prefix_node(
    node: ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode, prefix: str
) -> ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode:
    update: dict[str, Any] = {
        "id": prefix + node.id,
        "after": tuple(prefix + upstream for upstream in node.after),  # `a >> b` in the body
    }
    if isinstance(node, ir.BranchNode):
        # A conditional of a sub-workflow the body calls: its cases' nodes, conditions and outputs too.
        update["cases"] = tuple(
            case.model_copy(
                update={
                    "condition": _prefix_condition(case.condition, prefix),
                    "nodes": tuple(_prefix_node(inner, prefix) for inner in case.nodes),
                    "outputs": {name: _remap(b, prefix) for name, b in case.outputs.items()},
                }
            )
            for case in node.cases
        )
    else:
        update["inputs"] = {name: _remap(b, prefix) for name, b in node.inputs.items()}
    return node.model_copy(update=update)


def prefix_spec(spec: ir.WorkflowSpec, prefix: str) -> ir.WorkflowSpec:
    """``spec`` with every node id prefixed (``dyn__add``), so errors name the dynamic node.

    The body's own calls are task and map nodes (it may not use ``conditional``), but a
    sub-workflow it calls brings its conditionals and gates, which are kept, prefixed inside too.
    """
    # A copy, not a JSON round trip: every part is already a model (validating a 1,000-node
    # spec again cost more than running its nodes).
    return spec.model_copy(
        update={
            "nodes": tuple(_prefix_node(node, prefix) for node in spec.nodes),
            "output_bindings": {name: _remap(b, prefix) for name, b in spec.output_bindings.items()},
        }
    )


def _dynamic_task(ctx: NodeContext, node_id: str) -> tuple[ir.TaskNode, ir.TaskSpec]:
    node = ctx.spec.node(node_id)
    task = ctx.spec.tasks[node.task]
    if not isinstance(node, ir.TaskNode) or task.kind != "dynamic":
        raise TypeError(f"node '{node_id}' is not a @dynamic task node")
    return node, task


def plan_dynamic(ctx: NodeContext, node_id: str, *, attempt: int = 1) -> DynamicPlan:
    """Look the node up in the cache; on a miss, run its body on the real inputs (traced).

    The sub-workflow's inputs are the node's inputs; its node ids are prefixed with
    ``<node_id>__``. A body that raises, or records an invalid graph, fails the node.
    """
    node, task = _dynamic_task(ctx, node_id)
    inputs = node_inputs(ctx, node, task)
    cache = ctx.node_cache(task)
    key = cache.key(inputs)
    cached = cache.lookup(key)
    if cached is not None:
        return DynamicPlan(node=node_id, inputs=inputs, key=key, cached=cached)
    kwargs = _decode_inputs(task, inputs, ctx.blobs)

    def invoke(fn: Any, values: dict[str, Any]) -> Any:
        # The body sees current_context() as a task does (Flyte code reads execution_id there).
        with attempt_scope(ctx, task, node=node_id, attempt=attempt):
            return call_user(fn, values, node=node_id, attempt=attempt)

    try:
        wf = trace_dynamic(resolve_task(task.ref), task, kwargs, invoke=invoke)
    except DefinitionError as exc:
        raise TaskFailedError(
            f"@dynamic task '{task.name}' in node '{node_id}' built an invalid sub-workflow: {exc}",
            node=node_id,
            attempt=attempt,
            error_type="DefinitionError",
        ) from exc
    spec = prefix_spec(lower(wf), f"{node_id}__")
    return DynamicPlan(node=node_id, inputs=inputs, key=key, spec=spec)


def finish_dynamic(
    ctx: NodeContext, node_id: str, sub: NodeContext, *, key: str | None
) -> dict[str, LiteralRef]:
    """Store the finished sub-workflow's outputs as the dynamic node's (and cache them)."""
    _, task = _dynamic_task(ctx, node_id)
    outputs = workflow_outputs(sub)
    if not ctx.cancelled.is_set():
        ctx.outputs.write_outputs(node_id, outputs)
        # The key was taken at plan time, when the run's cache settings were the same.
        ctx.node_cache(task).remember(key, outputs)
    return outputs
