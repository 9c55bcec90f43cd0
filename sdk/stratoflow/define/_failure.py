"""Flyte's failure handling: ``@workflow(on_failure=task, failure_policy=...)``.

The handler is Flyte's failure node: a task called with the workflow's own inputs when the
workflow fails (the run still fails, with the original error). The policy says whether a
failure stops the run at once (nodes already running finish, nothing new starts) or lets
every node that does not depend on the failed one run first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.define._task import TaskDef
from stratoflow.errors import Problem
from stratoflow.values import is_assignable

if TYPE_CHECKING:
    from stratoflow.define._interface import Interface

__all__ = ["ERROR_INPUT", "FailureHandler", "FlyteError", "WorkflowFailurePolicy", "check_failure_handler"]

ERROR_INPUT = "err"  # flytekit's name: an on_failure task's input that receives the error


@dataclass(frozen=True)
class FlyteError:
    """What a failed workflow's ``on_failure`` task gets as ``err: Optional[FlyteError]`` (Flyte's fields).

    Example:
        >>> @task
        ... def clean_up(name: str, err: Optional[FlyteError] = None) -> None:
        ...     print(err.failed_node_id if err else "-")  # doctest: +SKIP
    """

    message: str
    failed_node_id: str


def _is_error_type(t: ir.TypeRef) -> bool:
    inner = t.args[0] if t.kind == "optional" else t
    return inner.kind == "dataclass" and inner.ref == f"{FlyteError.__module__}:{FlyteError.__qualname__}"


class WorkflowFailurePolicy(enum.Enum):
    """What a workflow does when a node fails (Flyte's names).

    Example:
        >>> @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
        ... def wf() -> None: ...  # doctest: +SKIP
    """

    FAIL_IMMEDIATELY = "fail_immediately"
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = "fail_after_executable_nodes_complete"


class FailureHandler:
    """A checked ``on_failure`` task and the workflow inputs it reads."""

    def __init__(self, node_id: str, target: TaskDef[..., object], inputs: dict[str, ir.Binding]) -> None:
        self.node_id = node_id
        self.target = target
        self.inputs = inputs


def check_failure_handler(
    handler: object,
    *,
    node_id: str,
    interface: Interface,
    workflow: str,
    where: ir.SourceLocation,
    problems: list[Problem],
) -> FailureHandler | None:
    """The handler bound to the workflow's inputs, or None (with ``problems``) when it does not fit."""

    def problem(message: str) -> None:
        problems.append(Problem(message, path=where.path, line=where.line, col=where.col))

    if not isinstance(handler, TaskDef):
        problem(f"on_failure of workflow '{workflow}' must be a @task, got {type(handler).__name__}")
        return None
    name = handler.spec.name
    declared = {v.name: v for v in interface.inputs}
    inputs: dict[str, ir.Binding] = {}
    for variable in handler.spec.inputs:
        if variable.name == ERROR_INPUT and variable.name not in declared and _is_error_type(variable.type):
            inputs[variable.name] = ir.PromiseBinding(node=ir.protocol.FAILURE_NODE, output=ERROR_INPUT)
            continue
        source = declared.get(variable.name)
        if source is None:
            if not variable.has_default:
                problem(
                    f"on_failure task '{name}' input '{variable.name}' is not an input of workflow "
                    f"'{workflow}' (a failure handler is called with the workflow's inputs)"
                )
            continue
        if not is_assignable(source.type, variable.type):
            problem(
                f"on_failure task '{name}' input '{variable.name}' is {variable.type.render()}, but "
                f"workflow '{workflow}' input '{variable.name}' is {source.type.render()}"
            )
            continue
        inputs[variable.name] = ir.InputBinding(name=variable.name)
    return FailureHandler(node_id, handler, inputs)
