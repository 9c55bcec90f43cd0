"""Running a ``@dynamic`` node: trace its body on real inputs into a sub-workflow, then, once
the backend has run that sub-workflow, store its outputs as the node's outputs.

Both halves are shared by the backends: locally the executor runs the sub-workflow in
between on its own scheduler; on AWS a generic interpreter state machine does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratoflow import ir, routing
from stratoflow.define import resolve_task, trace_dynamic
from stratoflow.errors import DefinitionError, TaskFailedError
from stratoflow.lower import lower
from stratoflow.runtime._batching import tolerated_failure_percentage
from stratoflow.runtime._boundary import call_user
from stratoflow.runtime._runner import (
    NodeContext,
    _decode_inputs,
    attempt_scope,
    node_inputs,
    workflow_outputs,
)
from stratoflow.values import LiteralRef

if TYPE_CHECKING:  # the wire contract loads pydantic's protocol models: AWS paths import it on use
    from stratoflow.ir import protocol

__all__ = [
    "DAG_BATCH",
    "DynamicPlan",
    "check_remote_graph",
    "dispatch",
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


def _route(task: ir.TaskSpec) -> routing.Route:
    return routing.route(
        task.requests,
        interruptible=task.interruptible,
        timeout_seconds=task.timeout_seconds,
        compute=task.compute,
    )


def dispatch(spec: ir.WorkflowSpec, node_id: str, compute: protocol.DynamicCompute) -> protocol.DagNode:
    """How the interpreter runs one node of a dynamic graph (its item's Choice takes ``kind``).

    A map node is a Distributed Map, with its ``concurrency`` and tolerated batch failures, whose
    batches run in the runner (a Lambda task) or each in one container of the task's size: an ECS
    task (a Fargate task) or an AWS Batch job on the task's pool (a Batch task); a map over a task
    with an image of its own fails first (:func:`check_remote_graph`). A task node runs where the routing rule sends
    it, on the stack's generic dynamic compute (``compute``); a task with an image of its own, on
    that image's function or generic task definition (``compute.image_functions``,
    ``image_task_definitions``).
    """
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    if spec.is_gate(node_id):
        return _gate_node(spec.gate(node_id))
    node = spec.node(node_id)
    task = spec.tasks[node.task]
    if task.kind == "dynamic":
        return protocol.DagNode(node=node_id, kind=protocol.Dispatch.DYNAMIC)
    route = _route(task)
    if isinstance(node, ir.MapNode):
        limits = {
            "concurrency": node.concurrency or 0,
            "tolerated": tolerated_failure_percentage(node.min_success_ratio),
        }
        if route.target == "lambda":
            return protocol.DagNode(node=node_id, kind=protocol.Dispatch.MAP, **limits)
        # A map over a container task (check_remote_graph refused one with an image): each batch
        # of items in one container of the task's size, an ECS task or a Batch job.
        kind = protocol.Dispatch(f"map_{route.target}")  # map_fargate(_spot), map_batch(_spot)
        if route.target in ("batch", "batch_spot"):
            return protocol.DagNode(node=node_id, kind=kind, **limits, **_batch_job(node_id, route, compute))
        return protocol.DagNode(node=node_id, kind=kind, **limits, **_fargate_sizes(route))
    if task.image is not None:
        return _image_node(node_id, task.image, route, compute)
    kind = protocol.Dispatch(route.target)
    if route.target in ("fargate", "fargate_spot"):
        return protocol.DagNode(node=node_id, kind=kind, **_fargate_sizes(route))
    if route.target in ("batch", "batch_spot"):
        return protocol.DagNode(node=node_id, kind=kind, **_batch_job(node_id, route, compute))
    return protocol.DagNode(node=node_id, kind=kind)


def _gate_node(gate: ir.GateNode) -> protocol.DagNode:
    """A sleep waits its seconds; a signal waits at most its timeout, then fails as a local run does."""
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    if gate.gate == "sleep":
        return protocol.DagNode(node=gate.id, kind=protocol.Dispatch.SLEEP, seconds=gate.seconds)
    message = protocol.gate_timeout_message(gate.gate, gate.name, gate.seconds)
    cause = protocol.FailureCause(node=gate.id, attempt=1, error=protocol.GATE_TIMEOUT, message=message)
    return protocol.DagNode(
        node=gate.id, kind=protocol.Dispatch.GATE, seconds=gate.seconds, cause=cause.to_json()
    )


def _batch_job(node_id: str, route: routing.Route, compute: protocol.DynamicCompute) -> dict[str, Any]:
    """A Batch node's (or a Batch map's every batch's) SubmitJob fields: the queues of its pool
    (Spot first for ``batch_spot``; the on-demand one a reclaimed job runs again on), its job
    name and its ``ResourceRequirements`` (strings, as SubmitJob takes them)."""
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    resources = [
        {"Type": "VCPU", "Value": str(route.vcpus)},
        {"Type": "MEMORY", "Value": str(route.memory_mib)},
    ]
    if route.gpus:
        resources.append({"Type": "GPU", "Value": str(route.gpus)})
    queues = compute.batch_queues
    return {
        "queue": queues[protocol.batch_queue(route.pool, spot=route.target == "batch_spot")],
        "on_demand_queue": queues[protocol.batch_queue(route.pool, spot=False)],
        "job_name": node_id[:_MAX_JOB_NAME],
        "resources": resources,
    }


def _fargate_sizes(route: routing.Route) -> dict[str, Any]:
    """A Fargate node's RunTask overrides: CPU units and MiB as strings, disk in GiB."""
    return {
        "cpu": str(int((route.cpu or 0.25) * 1024)),
        "memory": str(route.memory_mib),
        "disk": max(_FARGATE_MIN_DISK_GIB, -(-(route.ephemeral_storage_mib or 0) // 1024)),
    }


def _image_node(
    node_id: str, image: ir.ImageRef, route: routing.Route, compute: protocol.DynamicCompute
) -> protocol.DagNode:
    """A task node with an image of its own (on Lambda or Fargate: :func:`check_remote_graph`)."""
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    if route.target == "lambda":
        function = compute.image_functions.get(image.tag, "")
        if not function:  # check_remote_graph passed at plan time: only a copy without ARNs lacks it
            raise RuntimeError(
                f"node '{node_id}': this function's dynamic compute names no function of image "
                f"{image.tag} (only the shared runner dispatches dynamic graph nodes)"
            )
        return protocol.DagNode(node=node_id, kind=protocol.Dispatch.LAMBDA_IMAGE, function=function)
    spot = route.target == "fargate_spot"
    return protocol.DagNode(
        node=node_id,
        kind=protocol.Dispatch.FARGATE_IMAGE_SPOT if spot else protocol.Dispatch.FARGATE_IMAGE,
        task_definition=compute.image_task_definitions[image.tag],
        **_fargate_sizes(route),
    )


_FARGATE_MIN_DISK_GIB = 21
_MAX_JOB_NAME = 128  # node ids are sanitized identifiers: letters, digits and '_', as Batch allows


def _missing_compute(task: ir.TaskSpec, compute: protocol.DynamicCompute) -> str | None:
    """Why the stack cannot run ``task`` inside a dynamic graph, or None when it can."""
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    if task.kind == "dynamic":
        return None
    try:
        route = _route(task)
    except routing.RoutingError as exc:
        return f"cannot run on AWS: {exc}"
    if task.secrets and route.target != "lambda":
        # The generic task and job definitions hold no secrets (a static node's own definition does).
        return (
            f"requests secrets and runs on {route.target} ({route.reason}); inside a dynamic graph on "
            "AWS a task with secret_requests runs on Lambda only"
        )
    if task.image is not None:
        return _missing_image(task.image, route, compute)
    if route.target in ("fargate", "fargate_spot") and not compute.fargate:
        return f"needs Fargate ({route.reason}) and the stack deployed no Fargate compute for dynamic graphs"
    if route.target in ("batch", "batch_spot"):
        wanted = [
            protocol.batch_queue(route.pool, spot=spot) for spot in {route.target == "batch_spot", False}
        ]
        if any(queue not in compute.batch_queues for queue in wanted):
            return (
                f"needs AWS Batch pool '{route.pool}' ({route.reason}) and the stack deployed no "
                "such queue for dynamic graphs"
            )
    return None


def _missing_image(image: ir.ImageRef, route: routing.Route, compute: protocol.DynamicCompute) -> str | None:
    """Why the stack cannot run a task of ``image`` on ``route`` inside a dynamic graph, or None."""
    what = image.uri or f"ImageSpec '{image.name}'"
    if route.target in ("batch", "batch_spot"):
        # Batch nodes of a dynamic graph run the generic job definition, of the shared image.
        return (
            f"has its own image ({what}) and runs on {route.target} ({route.reason}); inside a dynamic "
            "graph on AWS a task with an image runs on Lambda or Fargate only"
        )
    if route.target != "lambda" and not compute.fargate:  # the interpreter then has no Fargate states
        return f"needs Fargate ({route.reason}) and the stack deployed no Fargate compute for dynamic graphs"
    deployed, what_of = (
        (compute.image_functions, "function")
        if route.target == "lambda"
        else (compute.image_task_definitions, "Fargate task definition")
    )
    if image.tag not in deployed:
        return (
            f"has its own image ({what}, tag {image.tag}) and the stack deployed no {what_of} of that "
            f"image for dynamic graphs (it deploys those of the {route.target.partition('_')[0].title()} "
            "tasks defined or imported in the module of the workflow with the @dynamic)"
        )
    return None


def _unsupported_map(task: ir.TaskSpec) -> str | None:
    """Why a map over ``task`` (whose compute the stack has) cannot run in a dynamic graph, or None."""
    if task.image is not None:
        # The map runner's children invoke the shared runner or run the shared image's generic
        # task or job definition.
        return "is mapped and has its own image; a map_task inside a dynamic graph runs in the shared runner only"
    return None


def check_remote_graph(spec: ir.WorkflowSpec, node_id: str, compute: protocol.DynamicCompute) -> None:
    """Fail the dynamic node unless the stack has the compute every task of its graph needs.

    The stack deploys container compute for dynamic graphs only for the shapes of the tasks in
    its workflows' modules (scanned at synth), so a body calling a task from elsewhere that
    needs Fargate or Batch fails here, at plan time, rather than in a state that cannot start.
    """
    problems: list[str] = []
    for node in spec.all_nodes():  # a sub-workflow the body calls may bring conditionals and gates
        if not isinstance(node, ir.TaskNode | ir.MapNode):
            continue
        task = spec.tasks[node.task]
        why = _missing_compute(task, compute)
        if why is None and isinstance(node, ir.MapNode):
            why = _unsupported_map(task)
        if why is not None:
            problems.append(f"node '{node.id}': task '{task.name}' {why}")
    if problems:
        raise TaskFailedError(
            f"@dynamic node '{node_id}' built a graph this stack cannot run: {'; '.join(problems)}",
            node=node_id,
            error_type="UnsupportedDynamicGraph",
        )


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
