"""Flyte's failure handling: ``@workflow(on_failure=task_or_workflow, failure_policy=...)``.

The handler is Flyte's failure node: a task called with the workflow's own inputs when the
workflow fails (the run still fails, with the original error). The policy says whether a
failure stops the run at once (nodes already running finish, nothing new starts) or lets
every node that does not depend on the failed one run first.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.define._calls import TaskCall
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
    """The handler bound to the workflow's inputs, or None (with ``problems``) when it does not fit.

    A ``@workflow`` handler (Flyte allows one) must call exactly one task: it runs as that task,
    its inputs bound through the handler workflow's to the failed workflow's. The failure path is
    one node on every backend (on AWS, one state in the ``Catch``).
    """

    def problem(message: str) -> None:
        problems.append(Problem(message, path=where.path, line=where.line, col=where.col))

    if isinstance(handler, TaskDef):
        bound = _bind(
            handler.spec.inputs, f"on_failure task '{handler.spec.name}'", interface, workflow, problem
        )
        return FailureHandler(node_id, handler, bound)
    from stratoflow.define._workflow import WorkflowDef  # noqa: PLC0415 - _workflow imports this module

    if not isinstance(handler, WorkflowDef):
        problem(
            f"on_failure of workflow '{workflow}' must be a @task (or a @workflow calling one task), "
            f"got {type(handler).__name__}"
        )
        return None
    what = f"on_failure workflow '{handler.name}'"
    calls = handler.calls
    if len(calls) != 1 or not isinstance(calls[0], TaskCall):
        problem(
            f"{what} must call exactly one task, it makes {len(calls)} call(s): a failure handler runs as "
            "one node (make it a @task, or a workflow of one task call)"
        )
        return None
    through = _bind(handler.interface.inputs, what, interface, workflow, problem)
    inputs: dict[str, ir.Binding] = {}
    for input_name, binding in calls[0].inputs.items():
        if isinstance(binding, ir.InputBinding):
            if binding.name in through:
                inputs[input_name] = through[binding.name]
            continue  # an input the failed workflow lacks and the handler defaults: the task's default
        inputs[input_name] = binding
    return FailureHandler(node_id, calls[0].target, inputs)


def _bind(
    variables: tuple[ir.Variable, ...],
    what: str,
    interface: Interface,
    workflow: str,
    problem: Callable[[str], None],
) -> dict[str, ir.Binding]:
    """The failed workflow's inputs (and its error, as ``err``) bound to the handler's inputs, by name."""
    declared = {v.name: v for v in interface.inputs}
    inputs: dict[str, ir.Binding] = {}
    for variable in variables:
        if variable.name == ERROR_INPUT and variable.name not in declared and _is_error_type(variable.type):
            inputs[variable.name] = ir.PromiseBinding(node=ir.protocol.FAILURE_NODE, output=ERROR_INPUT)
            continue
        source = declared.get(variable.name)
        if source is None:
            if not variable.has_default:
                problem(
                    f"{what} input '{variable.name}' is not an input of workflow "
                    f"'{workflow}' (a failure handler is called with the workflow's inputs)"
                )
            continue
        if not is_assignable(source.type, variable.type):
            problem(
                f"{what} input '{variable.name}' is {variable.type.render()}, but "
                f"workflow '{workflow}' input '{variable.name}' is {source.type.render()}"
            )
            continue
        inputs[variable.name] = ir.InputBinding(name=variable.name)
    return inputs
