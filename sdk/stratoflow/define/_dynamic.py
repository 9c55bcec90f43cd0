"""``@dynamic``: a task whose body builds a sub-workflow at run time, from real input values.

In a workflow a dynamic task is called like any task and is one node. When that node runs,
the runner calls the body with the node's real inputs inside a trace, so Python control
flow over the values works, and the tasks it calls record nodes (promises) instead of
running. The recorded graph is lowered and run as a sub-workflow on the same backend.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, Unpack, overload

from stratoflow import ir
from stratoflow.define._interface import Interface
from stratoflow.define._location import return_location
from stratoflow.define._options import TaskKwargs
from stratoflow.define._task import TaskDef, declare
from stratoflow.define._trace import Trace
from stratoflow.define._workflow import WorkflowDef, _bind_outputs
from stratoflow.errors import DefinitionError

__all__ = ["dynamic", "trace_dynamic"]

P = ParamSpec("P")
R = TypeVar("R")


@overload
def dynamic(fn: Callable[P, R], /) -> TaskDef[P, R]: ...


@overload
def dynamic(**options: Unpack[TaskKwargs]) -> Callable[[Callable[P, R]], TaskDef[P, R]]: ...


def dynamic(
    fn: Callable[P, R] | None = None, /, **options: Unpack[TaskKwargs]
) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
    """Declare a dynamic task: its body runs at run time, on real input values, and the tasks
    it calls form a sub-workflow that runs as this one node (options as for ``@task``).

    Example:
        >>> @dynamic
        ... def total(xs: list[int]) -> int:
        ...     parts = [double(x=x) for x in xs if x > 0]  # a loop over real values
        ...     return add_all(values=parts)  # doctest: +SKIP
    """
    return declare(fn, options, kind="dynamic")


def _interface_of(task: ir.TaskSpec, fn: Callable[..., Any]) -> Interface:
    output_class = None
    if task.output_style == "namedtuple":
        # Resolved, not read raw: under `from __future__ import annotations` it is a string.
        output_class = typing.get_type_hints(fn).get("return")
    return Interface(
        inputs=task.inputs, outputs=task.outputs, output_style=task.output_style, output_class=output_class
    )


def trace_dynamic(
    fn: Callable[..., Any],
    task: ir.TaskSpec,
    kwargs: Mapping[str, Any],
    *,
    invoke: Callable[[Callable[..., Any], dict[str, Any]], Any],
) -> WorkflowDef[Any, Any]:
    """Run a dynamic task's body on real inputs, recording the tasks it calls as a workflow.

    ``invoke`` calls the body (the runner's error boundary, so an exception the body raises
    fails the node like a task's would). Misusing a promise, or calling a task wrongly, raises
    :class:`~stratoflow.errors.DefinitionError` listing every problem.
    """
    trace = Trace(workflow=task.name)
    interface = _interface_of(task, fn)
    with trace:
        try:
            result = invoke(fn, dict(kwargs))
        except DefinitionError as exc:
            trace.problems.extend(exc.problems)
            result = None
    for call in trace.calls:
        if call.kind == "branch":
            trace.problem(
                f"conditional '{call.name}' in @dynamic task '{task.name}' is not supported: the body "
                "sees real inputs, so use a Python 'if'",
                call.location,
            )
    if not trace.problems:
        # Mistakes in what the body returns point at its return statement, not the decorator.
        output_bindings = _bind_outputs(
            trace, result, interface, return_location(fn), annotated="return" in fn.__annotations__
        )
    if trace.problems:
        raise DefinitionError(trace.problems)
    return WorkflowDef(
        fn, name=task.name, interface=interface, calls=tuple(trace.calls), output_bindings=output_bindings
    )
