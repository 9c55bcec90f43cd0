"""What container compute a stack deploys for ``@dynamic`` graphs, decided at synth.

A dynamic body builds its graph at run time, so the stack cannot know its nodes. It knows what
the body can call: the tasks of the modules its workflows come from (``WorkflowSource.module_tasks``).
The rule, for a stack with at least one ``@dynamic`` node:

- Fargate: the generic task definition (``Placeholder.DYNAMIC_TASK_DEFINITION``, sized per node by
  RunTask overrides) exists when one of those tasks routes to Fargate or Fargate Spot. A task
  definition costs nothing idle, but the VPC's NAT gateway does, so a stack of Lambda-only tasks
  gets no VPC for its dynamic graphs.
- AWS Batch: the generic job definition (``Placeholder.DYNAMIC_JOB_DEFINITION``, sized per job by
  ``ResourceRequirements`` overrides) and the pools (compute environments and queues) of the
  routes of those tasks that go to Batch; compute environments scale to zero.

- Secrets: the runner (or the image's function) of a workflow may read the secrets of those tasks
  that route to Lambda, which it runs inside a dynamic graph as it runs a static node; a container
  task requesting secrets fails at plan time there (the generic definitions hold none).

- Images: the Lambda function of each image of those tasks that route to Lambda (the function a
  static node of that image runs on, made for the workflow if none of its nodes needs it), which
  the interpreter invokes for such a node (``protocol.Dispatch.LAMBDA_IMAGE``); and for each image
  of those that route to Fargate, that image's generic task definition
  (``protocol.dynamic_task_definition``, sized per node as the shared image's is).

The runner learns what was deployed (``protocol.ENV_DYNAMIC_COMPUTE``); a graph needing compute
the stack lacks (a task from another module) fails its dynamic node at plan time, saying which.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.stacks.settings import WorkflowSource
from stratoflow import ir, routing

__all__ = [
    "DYNAMIC_JOB_MEMORY_MIB",
    "DYNAMIC_TASK_CPU_UNITS",
    "DYNAMIC_TASK_MEMORY_MIB",
    "dynamic_image_tasks",
    "dynamic_routes",
    "dynamic_tasks",
]

DYNAMIC_TASK_CPU_UNITS = 256
DYNAMIC_TASK_MEMORY_MIB = 512
"""The generic task definition's own size (always overridden per node)."""
DYNAMIC_JOB_MEMORY_MIB = 2048
"""The generic job definition's own memory (1 vCPU; always overridden per job)."""


def dynamic_tasks(workflows: Sequence[WorkflowSource]) -> list[tuple[routing.Route, ir.TaskSpec]]:
    """The route and task of every task a ``@dynamic`` body of these workflows can call."""
    found: list[tuple[routing.Route, ir.TaskSpec]] = []
    for workflow in workflows:
        spec = workflow.spec
        tasks = [spec.tasks[n.task] for n in spec.all_nodes() if isinstance(n, ir.TaskNode | ir.MapNode)]
        if not any(task.kind == "dynamic" for task in tasks):  # conditionals' cases included
            continue
        for task in workflow.module_tasks:
            if task.kind == "dynamic":
                continue
            route = routing.route(
                task.requests,
                interruptible=task.interruptible,
                timeout_seconds=task.timeout_seconds,
                compute=task.compute,
            )
            found.append((route, task))
    return found


def dynamic_routes(workflows: Sequence[WorkflowSource]) -> list[routing.Route]:
    """The routes of every task a ``@dynamic`` body of these workflows can call (none without one)."""
    return [route for route, _ in dynamic_tasks(workflows)]


_IMAGE_TARGETS = ("lambda", "fargate", "fargate_spot")


def dynamic_image_tasks(workflows: Sequence[WorkflowSource]) -> list[tuple[routing.Route, ir.TaskSpec]]:
    """The Lambda and Fargate tasks with an image of their own that a ``@dynamic`` body of these
    workflows can call: each image's function, or its generic task definition, serves them there."""
    return [
        (route, task)
        for route, task in dynamic_tasks(workflows)
        if task.image and route.target in _IMAGE_TARGETS
    ]
