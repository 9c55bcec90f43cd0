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

import contextlib
import sys
from typing import TYPE_CHECKING, Any

from stratoflow._frozen_heap import loading

# What `import stratoflow` loads lives as long as the process: loaded with the collector paused,
# then frozen (see stratoflow._frozen_heap).
with loading():
    from stratoflow import errors
    from stratoflow.define import (
        Checkpoint,
        FlyteError,
        Resources,
        WorkflowDef,
        WorkflowFailurePolicy,
        create_node,
        current_context,
        dynamic,
        kwtypes,
        map_task,
        set_local_runner,
        task,
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
# imperative builder (loaded on first use, below); FlyteFile / FlyteDirectory are File / Directory
# (also under flytekit's paths, stratoflow.types.file and stratoflow.types.directory).
FlyteFile = File
FlyteDirectory = Directory

if TYPE_CHECKING:
    from stratoflow.client import Client
    from stratoflow.define import (
        ActorEnvironment,
        CronSchedule,
        Deck,
        Echo,
        Email,
        ExecutionParameters,
        FixedRate,
        FlyteContext,
        FlyteContextManager,
        HashMethod,
        ImageSpec,
        LaunchPlan,
        PagerDuty,
        S3Trigger,
        Secret,
        Slack,
        Webhook,
        WorkflowExecutionPhase,
        actor_cache,
        approve,
        conditional,
        sleep,
        wait_for_input,
    )
    from stratoflow.define import ImperativeWorkflow as ImperativeWorkflow
    from stratoflow.define import ImperativeWorkflow as Workflow

# What a plain task, workflow, map or @dynamic does not use loads on first use of its name
# (from stratoflow.define, which loads it on first use too): start-up time is issue 14's.
_FROM_DEFINE = frozenset(
    {
        "ActorEnvironment",
        "CronSchedule",
        "Deck",
        "Echo",
        "Email",
        "ExecutionParameters",
        "FixedRate",
        "FlyteContext",
        "FlyteContextManager",
        "HashMethod",
        "ImageSpec",
        "ImperativeWorkflow",
        "LaunchPlan",
        "PagerDuty",
        "S3Trigger",
        "Secret",
        "Slack",
        "Webhook",
        "WorkflowExecutionPhase",
        "actor_cache",
        "approve",
        "conditional",
        "sleep",
        "wait_for_input",
    }
)

__all__ = [
    "ActorEnvironment",
    "Checkpoint",
    "Client",
    "CompileError",
    "CronSchedule",
    "Deck",
    "DefinitionError",
    "Directory",
    "Echo",
    "Email",
    "ExecutionError",
    "ExecutionParameters",
    "File",
    "FixedRate",
    "FlyteContext",
    "FlyteContextManager",
    "FlyteDirectory",
    "FlyteError",
    "FlyteFile",
    "HashMethod",
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
    if name in _FROM_DEFINE or name == "Workflow":
        from stratoflow import define  # noqa: PLC0415 - loaded already; the name loads on first use

        value = getattr(define, "ImperativeWorkflow" if name == "Workflow" else name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'stratoflow' has no attribute {name!r}")


def _run_locally(wf: WorkflowDef[Any, Any], inputs: dict[str, Any]) -> Any:
    # Imported here so `import stratoflow` stays light and define never imports a backend. The
    # first run loads them as one batch of long-lived modules (see stratoflow._frozen_heap); the
    # check only picks that, the imports themselves wait for a thread still loading them.
    first = "stratoflow.backends.local" not in sys.modules
    with loading() if first else contextlib.nullcontext():
        from stratoflow.backends.local import run_recorded  # noqa: PLC0415
        from stratoflow.lower import lower  # noqa: PLC0415
    outputs = run_recorded(lower(wf), inputs).outputs
    return wf.interface.shape([outputs[v.name] for v in wf.interface.outputs])


set_local_runner(_run_locally)
