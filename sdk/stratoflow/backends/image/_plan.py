"""Which images a set of workflows needs, which tasks use each, and on which platform each is built.

The platform is part of an image: Lambda runs arm64 by default (``stratoflow:lambdaArchitecture``)
and Fargate and Batch run x86_64 (Fargate Spot has no Arm capacity), so one spec used by a Lambda
task and a Fargate task is built twice, once per platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from stratoflow import ir, routing

__all__ = ["LAMBDA_PLATFORMS", "Architecture", "ImageUse", "images_of", "task_platform"]

Architecture = Literal["arm64", "x86_64"]
LAMBDA_PLATFORMS: Final[dict[str, str]] = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}
CONTAINER_PLATFORM: Final = "linux/amd64"


@dataclass(frozen=True)
class ImageUse:
    """One distinct image: the IR image, the tasks that use it (``workflow.task``) and its platforms."""

    image: ir.ImageRef
    tasks: tuple[str, ...]
    platforms: tuple[str, ...]

    @property
    def tag(self) -> str:
        return self.image.tag


def task_platform(task: ir.TaskSpec, *, lambda_architecture: str = "arm64") -> tuple[str, str]:
    """``(compute target, platform)`` of a task's code: a ``@dynamic`` body runs on Lambda, an actor
    task on its environment's Fargate workers (whatever its requests would route to)."""
    if task.actor is not None:
        return ("fargate_spot" if task.interruptible else "fargate"), CONTAINER_PLATFORM
    target = routing.route_task(task).target
    if task.kind == "dynamic" or target == "lambda":
        return "lambda", LAMBDA_PLATFORMS[lambda_architecture]
    return target, CONTAINER_PLATFORM


def images_of(specs: Sequence[ir.WorkflowSpec], *, lambda_architecture: str = "arm64") -> list[ImageUse]:
    """The distinct images of ``specs``' tasks, by tag (same tag, same image), in tag order.

    Example:
        >>> [use.image.name for use in images_of([lower(training)])]  # doctest: +SKIP
        ['trainer']
    """
    images: dict[str, ir.ImageRef] = {}
    tasks: dict[str, set[str]] = {}
    platforms: dict[str, set[str]] = {}
    for spec in specs:
        for node in spec.all_nodes():
            if isinstance(node, ir.BranchNode | ir.GateNode):
                continue
            task = spec.tasks[node.task]
            if task.image is None:
                continue
            tag = task.image.tag
            images.setdefault(tag, task.image)
            tasks.setdefault(tag, set()).add(f"{spec.name}.{task.name}")
            platforms.setdefault(tag, set()).add(
                task_platform(task, lambda_architecture=lambda_architecture)[1]
            )
    return [
        ImageUse(image=images[tag], tasks=tuple(sorted(tasks[tag])), platforms=tuple(sorted(platforms[tag])))
        for tag in sorted(images)
    ]
