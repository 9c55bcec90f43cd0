"""Flyte's imperative ``Workflow(name=...)`` builder: inputs, entities and outputs added one call at a time.

It records the same calls a ``@workflow`` body would, so it lowers, runs and compiles like
one. Each mistake is a :class:`~stratoflow.errors.DefinitionError` raised by the call that made
it, at the user's line. The workflow is lowered when first run or compiled: finish building it first.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from stratoflow import ir, values
from stratoflow.define._failure import WorkflowFailurePolicy
from stratoflow.define._interface import Interface, OutputStyle
from stratoflow.define._location import PACKAGE_DIR, caller_location
from stratoflow.define._nodes import NodeHandle, create_node
from stratoflow.define._trace import Promise, Trace, bind_value
from stratoflow.define._workflow import WorkflowDef
from stratoflow.errors import DefinitionError

if TYPE_CHECKING:
    from stratoflow.define._task import TaskDef

__all__ = ["ImperativeWorkflow"]


def _caller_module() -> str:
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "__main__"))


class ImperativeWorkflow(WorkflowDef[..., Any]):
    """A workflow built by calls instead of a body (Flyte's ``Workflow``, imported as such).

    Example:
        >>> wf = Workflow(name="imperative_workflow")  # doctest: +SKIP
        >>> wf.add_workflow_input("x", list[int])  # doctest: +SKIP
        >>> node = wf.add_entity(slope, x=wf.inputs["x"])  # doctest: +SKIP
        >>> wf.add_workflow_output("wf_output", node.outputs["o0"])  # doctest: +SKIP
        >>> wf(x=[-3, 0, 3])  # doctest: +SKIP
    """

    def __init__(self, name: str, failure_policy: object = None, interruptible: bool = False) -> None:
        # No function behind it: the attributes a traced workflow gets from its body are built here.
        self.fn = None  # type: ignore[assignment]
        self.name = name
        self.triggers = ()
        self.notifications: tuple[ir.NotificationSpec, ...] = ()  # only @workflow takes notifications
        self.on_failure = None
        # flytekit's constructor takes the policy (None: the default).
        self.failure_policy = (
            failure_policy
            if isinstance(failure_policy, WorkflowFailurePolicy)
            else WorkflowFailurePolicy.FAIL_IMMEDIATELY
        )
        self.ref = f"{_caller_module()}:{name}"
        self.location = caller_location()
        self.inputs: dict[str, Promise] = {}
        self._trace = Trace(workflow=name)
        self._input_vars: list[ir.Variable] = []
        self._output_vars: list[ir.Variable] = []
        self.output_bindings: dict[str, ir.Binding] = {}
        self.calls = ()
        self.interface = Interface((), (), "none")

    def _refresh(self) -> None:
        outputs = tuple(self._output_vars)
        style: OutputStyle = "none" if not outputs else "single" if len(outputs) == 1 else "tuple"
        self.interface = Interface(tuple(self._input_vars), outputs, style)
        self.calls = tuple(self._trace.calls)
        problems, self._trace.problems = self._trace.problems, []
        if problems:
            raise DefinitionError(problems)

    def _problem(self, message: str, location: ir.SourceLocation) -> None:
        self._trace.problem(message, location)
        self._refresh()

    def add_workflow_input(self, input_name: str, python_type: object) -> Promise:
        """Declare input ``input_name`` of type ``python_type``; returns its promise (also ``.inputs[name]``)."""
        location = caller_location()
        if input_name in self.inputs:
            self._problem(f"workflow '{self.name}' already has an input '{input_name}'", location)
        try:
            t = values.typeref_of(python_type)
        except values.UnsupportedTypeError as exc:
            self._problem(f"workflow '{self.name}' input '{input_name}': {exc}", location)
            raise  # unreachable: _problem raised
        self._input_vars.append(ir.Variable(name=input_name, type=t))
        promise = Promise(self._trace, ir.InputBinding(name=input_name), t, f"workflow input '{input_name}'")
        self.inputs[input_name] = promise
        self._refresh()
        return promise

    def add_entity(self, entity: TaskDef[Any, Any] | WorkflowDef[Any, Any], **kwargs: object) -> NodeHandle:
        """Call a task or workflow with ``kwargs`` (promises or constants); returns its node (``.outputs``)."""
        with self._trace:
            node = create_node(entity, **kwargs)
        self._refresh()
        return node

    add_task = add_entity
    add_subwf = add_entity

    def add_workflow_output(self, output_name: str, p: object, python_type: object = None) -> None:
        """Make ``p`` (a promise, or a list / dict of them with ``python_type``) output ``output_name``."""
        location = caller_location()
        if any(v.name == output_name for v in self._output_vars):
            self._problem(f"workflow '{self.name}' already has an output '{output_name}'", location)
        if python_type is None and not isinstance(p, Promise):
            self._problem(
                f"workflow '{self.name}' output '{output_name}' needs python_type= when it is not a promise",
                location,
            )
        try:
            t = p.type if isinstance(p, Promise) and python_type is None else values.typeref_of(python_type)
        except values.UnsupportedTypeError as exc:
            self._problem(f"workflow '{self.name}' output '{output_name}': {exc}", location)
            raise  # unreachable: _problem raised
        label = f"output '{output_name}' of workflow '{self.name}'"
        binding = bind_value(self._trace, p, t, label, location)
        if binding is not None:
            self._output_vars.append(ir.Variable(name=output_name, type=t))
            self.output_bindings[output_name] = binding
        self._refresh()

    def __repr__(self) -> str:
        return f"Workflow({self.ref})"
