"""stratoflow: Flyte-style typed Python workflows that run serverless on AWS Step Functions.

Example:
    >>> from stratoflow import task, workflow
    >>> @task
    ... def double(x: int) -> int:
    ...     return 2 * x
    >>> @workflow
    ... def quadruple(x: int) -> int:
    ...     return double(x=double(x=x))
    >>> quadruple(x=3)
    12
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratoflow import errors
from stratoflow._frozen_heap import freeze_loaded
from stratoflow.define import (
    ActorEnvironment,
    Checkpoint,
    CronSchedule,
    Deck,
    Email,
    ExecutionParameters,
    FixedRate,
    FlyteError,
    ImageSpec,
    ImperativeWorkflow,
    LaunchPlan,
    PagerDuty,
    Resources,
    S3Trigger,
    Secret,
    Slack,
    Webhook,
    WorkflowDef,
    WorkflowExecutionPhase,
    WorkflowFailurePolicy,
    actor_cache,
    approve,
    conditional,
    create_node,
    current_context,
    dynamic,
    kwtypes,
    map_task,
    set_local_runner,
    sleep,
    task,
    wait_for_input,
    workflow,
)
from stratoflow.errors import (
    CompileError,
    DefinitionError,
    ExecutionError,
    InputError,
    SdkError,
    TaskFailedError,
)
from stratoflow.values import Directory, File, StructuredDataset

# Flyte's names, so Flyte code ports by changing its imports: flytekit's `Workflow` is the
# imperative builder; FlyteFile / FlyteDirectory are File / Directory (also under flytekit's
# paths, stratoflow.types.file and stratoflow.types.directory).
Workflow = ImperativeWorkflow
FlyteFile = File
FlyteDirectory = Directory

if TYPE_CHECKING:
    from stratoflow.client import Client

__all__ = [
    "ActorEnvironment",
    "Checkpoint",
    "Client",
    "CompileError",
    "CronSchedule",
    "Deck",
    "DefinitionError",
    "Directory",
    "Email",
    "ExecutionError",
    "ExecutionParameters",
    "File",
    "FixedRate",
    "FlyteDirectory",
    "FlyteError",
    "FlyteFile",
    "ImageSpec",
    "InputError",
    "LaunchPlan",
    "PagerDuty",
    "Resources",
    "S3Trigger",
    "SdkError",
    "Secret",
    "Slack",
    "StructuredDataset",
    "TaskFailedError",
    "Webhook",
    "Workflow",
    "WorkflowDef",
    "WorkflowExecutionPhase",
    "WorkflowFailurePolicy",
    "actor_cache",
    "approve",
    "conditional",
    "create_node",
    "current_context",
    "dynamic",
    "errors",
    "kwtypes",
    "map_task",
    "sleep",
    "task",
    "wait_for_input",
    "workflow",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The client needs boto3: import it on first use so `import stratoflow` stays light.
    if name == "Client":
        from stratoflow.client import Client  # noqa: PLC0415

        return Client
    raise AttributeError(f"module 'stratoflow' has no attribute {name!r}")


def _run_locally(wf: WorkflowDef[Any, Any], inputs: dict[str, Any]) -> Any:
    # Imported here so `import stratoflow` stays light and define never imports a backend.
    from stratoflow.backends.local import run_recorded  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    outputs = run_recorded(lower(wf), inputs).outputs
    return wf.interface.shape([outputs[v.name] for v in wf.interface.outputs])


set_local_runner(_run_locally)
# What `import stratoflow` loaded lives as long as the process (see stratoflow._frozen_heap).
freeze_loaded()
