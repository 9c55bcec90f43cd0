"""The stack's per-image compute: container-image runner functions for the image placeholders the
compiled workflows name, and the (route, task) pairs task and job definitions are made from."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs import defaults
from infra.constructs.image_function import ImageFunction
from infra.constructs.task_images import TaskImages
from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["image_functions", "node_tasks"]


def node_tasks(specs: Sequence[ir.WorkflowSpec]) -> list[tuple[routing.Route, ir.TaskSpec]]:
    """The compute route and task of every node of every workflow (the compiler's own routing rule)."""
    found = []
    for spec in specs:
        for node in spec.all_nodes():  # conditionals' nodes too
            if isinstance(node, ir.BranchNode | ir.GateNode):
                continue
            task = spec.tasks[node.task]
            route = routing.route(
                task.requests,
                interruptible=task.interruptible,
                timeout_seconds=task.timeout_seconds,
                compute=task.compute,
            )
            found.append((route, task))
    return found


def image_functions(
    scope: Construct,
    *,
    compiled: Sequence[asl.CompiledWorkflow],
    specs: Sequence[ir.WorkflowSpec],
    images: TaskImages,
    environment: dict[str, str],
    architecture: defaults.Architecture,
    grant: Callable[[iam.IRole], None],
    dynamic: Sequence[tuple[routing.Route, ir.TaskSpec]] = (),
) -> dict[str, ImageFunction]:
    """One ``ImageFunction`` per image-function placeholder of ``compiled`` and per image of the
    Lambda ones of the ``dynamic`` tasks (tasks with an image ``@dynamic`` graphs may run), by placeholder name.

    Each is sized for the largest Lambda-routed request among its image's tasks, and gets
    ``grant`` (the shared runner's data-plane rights) on its role.
    """
    by_tag: dict[str, ir.ImageRef] = {}
    memory: dict[str, int] = {}
    for route, task in [*node_tasks(specs), *dynamic]:
        if task.image is None:
            continue
        by_tag.setdefault(task.image.tag, task.image)
        if route.target == "lambda":
            memory[task.image.tag] = max(memory.get(task.image.tag, 0), route.memory_mib)
    names = sorted(
        {name for workflow in compiled for name in workflow.placeholders if protocol.is_image_function(name)}
        | {
            protocol.image_function(task.image.tag)
            for route, task in dynamic
            if task.image is not None and route.target == "lambda"
        }
    )
    functions = {}
    for name in names:
        tag = protocol.image_function_tag(name)
        image = by_tag[tag]
        functions[name] = ImageFunction(
            scope,
            f"ImageRunner_{tag}",
            image=image,
            code=images.lambda_code(image, architecture),
            environment=environment,
            architecture=architecture,
            memory_mib=max(defaults.RUNNER_MEMORY_MIB, memory.get(tag, 0)),
        )
        grant(functions[name].role)
    return functions
