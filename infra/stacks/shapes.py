"""What compute the workflows need: their nodes' routes, the Fargate task and Batch job definition
shapes, the Batch pools and the actor environments (the compiler's own routing rule, never a copy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from infra.constructs import defaults
from infra.constructs.actor_pool import ActorPoolSpec
from infra.constructs.batch_compute import BatchPool, BatchShape
from infra.constructs.fargate_compute import FargateShape
from infra.constructs.task_images import TaskImages
from infra.stacks.dynamic_compute import (
    DYNAMIC_JOB_MEMORY_MIB,
    DYNAMIC_TASK_CPU_UNITS,
    DYNAMIC_TASK_MEMORY_MIB,
)
from infra.stacks.task_images import node_tasks
from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = [
    "actor_pool_specs",
    "add_dynamic_shapes",
    "batch_pools",
    "batch_shapes",
    "fargate_shapes",
    "lambda_secrets",
    "node_routes",
]

Placed = tuple[routing.Route, ir.TaskSpec]
_BATCH_TARGETS = ("batch", "batch_spot")


def node_routes(specs: Sequence[ir.WorkflowSpec]) -> list[routing.Route]:
    """The compute route of every node of every workflow (the compiler's own routing rule)."""
    return [route for route, _ in node_tasks(specs)]


def actor_pool_specs(specs: Sequence[ir.WorkflowSpec]) -> list[ActorPoolSpec]:
    """One pool per actor environment the workflows use, its workers sized as Fargate sizes its requests.

    An environment's tasks share its requests and interruptibility (``@env.task`` takes them
    from the environment), so any of its tasks describes the workers.
    """
    pools: dict[str, ActorPoolSpec] = {}
    secrets: dict[str, dict[str, ir.SecretRequest]] = {}  # environment -> its tasks' secrets, by name
    for spec in specs:
        for task in spec.tasks.values():
            if task.actor is None:
                continue
            secrets.setdefault(task.actor.name, {}).update({s.name: s for s in task.secrets})
            if task.actor.name in pools:
                continue
            route = routing.route(task.requests, interruptible=task.interruptible, compute="fargate")
            pools[task.actor.name] = ActorPoolSpec(
                name=task.actor.name,
                ttl_seconds=task.actor.ttl_seconds,
                cpu_units=int((route.cpu or 0.25) * 1024),
                memory_mib=route.memory_mib,
                spot=task.interruptible,
                image=task.image,
            )
    # Its workers hold every secret its tasks request (they share the workers).
    return [
        dataclasses.replace(pools[name], secrets=tuple(secrets[name][n] for n in sorted(secrets[name])))
        for name in sorted(pools)
    ]


def lambda_secrets(
    placed: Sequence[Placed], *, image: str | None, actors_run_plain: bool = False
) -> list[ir.SecretRequest]:
    """The secrets of the Lambda tasks one function runs: the runner's (``image=None``) or an
    image function's (its image tag). An actor task runs on its environment's workers, which hold
    its secrets (``ActorPoolSpec.secrets``), whatever its route; except inside a ``@dynamic``
    graph, where it runs as a plain task (``actors_run_plain``)."""
    return [
        secret
        for route, task in placed
        if route.target == "lambda"
        and (task.actor is None or actors_run_plain)
        and (task.image.tag if task.image else None) == image
        for secret in task.secrets
    ]


def add_dynamic_shapes(
    dynamic: Sequence[routing.Route],
    shapes: list[FargateShape],
    batch_shapes: list[BatchShape],
    *,
    image_tasks: Sequence[Placed] = (),
    images: TaskImages | None = None,
) -> None:
    """The generic task and job definitions ``@dynamic`` graph nodes run on, when any needs one,
    and each image's generic task definition, of the Fargate ones of ``image_tasks``."""
    if any(r.target in ("fargate", "fargate_spot") for r in dynamic):
        shapes.append(
            FargateShape(
                placeholder=protocol.Placeholder.DYNAMIC_TASK_DEFINITION,
                cpu_units=DYNAMIC_TASK_CPU_UNITS,
                memory_mib=DYNAMIC_TASK_MEMORY_MIB,
            )
        )
    by_tag = {
        task.image.tag: task.image
        for route, task in image_tasks
        if task.image is not None and route.target in ("fargate", "fargate_spot")
    }
    for tag, image in sorted(by_tag.items()):
        assert images is not None  # noqa: S101 - the stack passes its images with image tasks
        shapes.append(
            FargateShape(
                placeholder=protocol.dynamic_task_definition(tag),
                cpu_units=DYNAMIC_TASK_CPU_UNITS,
                memory_mib=DYNAMIC_TASK_MEMORY_MIB,
                image=images.container_image(image),
            )
        )
    if any(r.target in _BATCH_TARGETS for r in dynamic):
        batch_shapes.append(
            BatchShape(
                protocol.Placeholder.DYNAMIC_JOB_DEFINITION, vcpus=1, memory_mib=DYNAMIC_JOB_MEMORY_MIB
            )
        )


def fargate_shapes(placed: Sequence[Placed], images: TaskImages) -> list[FargateShape]:
    """One task definition per (image, shape) in use; no image: the shared image."""
    shapes: dict[str, FargateShape] = {}
    for route, task in placed:
        if route.target not in ("fargate", "fargate_spot"):
            continue
        placeholder = asl.task_definition_name(route, task.image, task.secrets)
        disk_gib = -(-(route.ephemeral_storage_mib or 0) // 1024)
        shapes[placeholder] = FargateShape(
            placeholder=placeholder,
            cpu_units=int((route.cpu or 0.25) * 1024),
            memory_mib=route.memory_mib,
            ephemeral_storage_gib=disk_gib if disk_gib > defaults.DEFAULT_FARGATE_EPHEMERAL_GIB else None,
            image=images.container_image(task.image) if task.image else None,
            secrets=task.secrets,
        )
    return list(shapes.values())


def batch_shapes(placed: Sequence[Placed], images: TaskImages) -> list[BatchShape]:
    """One job definition per (image, shape, set of secrets) in use; no image: the shared image."""
    shapes: dict[str, BatchShape] = {}
    for route, task in placed:
        if route.target in _BATCH_TARGETS:
            name = asl.batch_job_definition_name(route, task.image, task.secrets)
            image = images.container_image(task.image) if task.image else None
            shapes[name] = BatchShape(
                name,
                vcpus=route.vcpus,
                memory_mib=route.memory_mib,
                gpus=route.gpus,
                image=image,
                secrets=task.secrets,
            )
    return list(shapes.values())


def batch_pools(routes: Sequence[routing.Route]) -> list[BatchPool]:
    """One pool per route pool: the union of its routes' families; Spot when an interruptible node uses it."""
    families: dict[str, set[str]] = {}
    spot: dict[str, bool] = {}
    for route in routes:
        if route.target in _BATCH_TARGETS:
            families.setdefault(route.pool, set()).update(route.instance_families)
            spot[route.pool] = spot.get(route.pool, False) or route.target == "batch_spot"
    order = {f.name: i for i, f in enumerate(routing.INSTANCE_FAMILIES)}
    return [
        BatchPool(name, tuple(sorted(names, key=order.__getitem__)), spot=spot[name])
        for name, names in sorted(families.items())
    ]
