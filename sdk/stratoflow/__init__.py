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

from typing import Any

from stratoflow import errors
from stratoflow.define import (
    Resources,
    S3Trigger,
    WorkflowDef,
    dynamic,
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
from stratoflow.values import Directory, File

__all__ = [
    "CompileError",
    "DefinitionError",
    "Directory",
    "ExecutionError",
    "File",
    "InputError",
    "Resources",
    "S3Trigger",
    "SdkError",
    "TaskFailedError",
    "WorkflowDef",
    "dynamic",
    "errors",
    "map_task",
    "shape_outputs",
    "task",
    "workflow",
]

__version__ = "0.1.0"


def shape_outputs(wf: WorkflowDef[Any, Any], outputs: dict[str, Any]) -> Any:
    """Workflow outputs as the workflow's function returns them (value, tuple or NamedTuple)."""
    interface = wf.interface
    ordered = [outputs[v.name] for v in interface.outputs]
    if interface.output_style == "none":
        return None
    if interface.output_style == "single":
        return ordered[0]
    if interface.output_style == "namedtuple":
        return interface.output_class(*ordered)
    return tuple(ordered)


def _run_locally(wf: WorkflowDef[Any, Any], inputs: dict[str, Any]) -> Any:
    # Imported here so `import stratoflow` stays light and define never imports a backend.
    from stratoflow.backends.local import run_recorded  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    return shape_outputs(wf, run_recorded(lower(wf), inputs).outputs)


set_local_runner(_run_locally)
