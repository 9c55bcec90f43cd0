"""How the interpreter runs each node of a ``@dynamic`` graph on AWS (``dispatch``: a ``DagNode``
per ready node, by the routing rule), and whether the stack has the compute for all of them
(``check_remote_graph``, at plan time rather than in a state that cannot start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratoflow import ir, routing
from stratoflow.errors import TaskFailedError
from stratoflow.runtime._batching import tolerated_failure_percentage

if TYPE_CHECKING:  # the wire contract loads pydantic's protocol models: AWS paths import it on use
    from stratoflow.ir import protocol

__all__ = ["check_remote_graph", "dispatch"]


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
    route = routing.route_task(task)
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
        route = routing.route_task(task)
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
