"""``@workflow``: the body runs once, at definition time, to record a graph of task calls."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from stratoflow import ir
from stratoflow.define._failure import FailureHandler, WorkflowFailurePolicy, check_failure_handler
from stratoflow.define._interface import Interface, extract_interface
from stratoflow.define._location import (
    PACKAGE_DIR,
    caller_location,
    display_path,
    function_location,
    parameter_location,
)
from stratoflow.define._nodes import VoidPromise
from stratoflow.define._task import TaskDef, outputs_for_call
from stratoflow.define._trace import Call, Promise, Trace, WorkflowCall, active_trace, bind_inputs, bind_value
from stratoflow.errors import DefinitionError, Problem
from stratoflow.values import is_assignable

if TYPE_CHECKING:
    from stratoflow.define._schedules import Notification, Webhook
    from stratoflow.define._triggers import S3Trigger

__all__ = ["WorkflowDef", "set_local_runner", "workflow"]

P = ParamSpec("P")
R = TypeVar("R")
H = TypeVar("H")  # what an on_failure handler returns (ignored)

# Set by the top-level package: calling a workflow outside a trace runs it with the local
# executor, which the definition layer must not import (dependencies point one way).
_local_runner: Callable[[WorkflowDef[Any, Any], dict[str, Any]], Any] | None = None


def set_local_runner(runner: Callable[[WorkflowDef[Any, Any], dict[str, Any]], Any]) -> None:
    global _local_runner  # noqa: PLW0603 - one process-wide hook, set once at import
    _local_runner = runner


class WorkflowDef(Generic[P, R]):
    """A traced workflow: its interface and the calls recorded from its body."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str,
        interface: Interface,
        calls: tuple[Call, ...],
        output_bindings: dict[str, ir.Binding],
        triggers: tuple[ir.TriggerSpec, ...] = (),
        on_failure: FailureHandler | None = None,
        failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY,
        notifications: tuple[ir.NotificationSpec, ...] = (),
    ) -> None:
        self.fn = fn
        self.notifications = notifications
        self.on_failure = on_failure
        self.failure_policy = failure_policy
        self.triggers = triggers
        self.name = name
        self.interface = interface
        self.calls = calls
        self.output_bindings = output_bindings
        self.ref = f"{fn.__module__}:{fn.__qualname__}"
        self.location = function_location(fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        trace = active_trace()
        if trace is None:
            if args:
                raise TypeError(f"workflow '{self.name}' takes keyword arguments only")
            if _local_runner is None:
                raise RuntimeError("no local runner registered; import stratoflow first")
            result: R = _local_runner(self, dict(kwargs))
            return result
        location = caller_location()
        node_id = trace.new_node_id(self.name)
        what = f"workflow '{self.name}'"
        bindings = bind_inputs(
            trace, target=what, interface=self.interface.inputs, args=args, kwargs=kwargs, location=location
        )
        trace.calls.append(WorkflowCall(node_id=node_id, target=self, inputs=bindings, location=location))
        outputs: R = outputs_for_call(trace, node_id, f"sub-workflow node '{node_id}'", self.interface)
        return outputs

    def __repr__(self) -> str:
        return f"WorkflowDef({self.ref})"


def _exception_location(exc: BaseException) -> ir.SourceLocation:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.startswith(PACKAGE_DIR):
            return ir.SourceLocation.trusted(path=display_path(frame.filename), line=frame.lineno or 0, col=1)
    return ir.SourceLocation.trusted(path="<unknown>", line=0)


def _bind_outputs(
    trace: Trace, result: object, interface: Interface, where: ir.SourceLocation, *, annotated: bool
) -> dict[str, ir.Binding]:
    """Bindings for what a body returned: promises, constants, or lists / dicts holding promises."""
    if interface.output_style == "none" and not annotated:
        return {}  # no return annotation: no outputs, whatever the body returns (flytekit's rule)
    if interface.output_style == "none" and result is not None and not isinstance(result, VoidPromise):
        trace.problem(f"workflow '{trace.workflow}' returns a value but is annotated '-> None'", where)
        return {}
    returned = interface.unshape(result)
    if returned is None:
        trace.problem(f"workflow '{trace.workflow}' must return {len(interface.outputs)} values", where)
        return {}
    bindings: dict[str, ir.Binding] = {}
    for variable, value in zip(interface.outputs, returned, strict=True):
        label = f"output '{variable.name}' of workflow '{trace.workflow}'"
        if isinstance(value, Promise) and not is_assignable(value.type, variable.type):
            trace.problem(
                f"{label} is {variable.type.render()}, but the value returned is {value.type.render()}",
                where,
            )
            continue
        binding = bind_value(trace, value, variable.type, label, where)
        if binding is not None:
            bindings[variable.name] = binding
    return bindings


def _trace_workflow(
    fn: Callable[..., Any],
    name: str,
    triggers: Sequence[S3Trigger] = (),
    decorated_at: ir.SourceLocation | None = None,
    *,
    on_failure: object = None,
    failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY,
    notifications: Sequence[object] = (),
) -> WorkflowDef[Any, Any]:
    problems: list[Problem] = []
    interface = extract_interface(fn, f"workflow '{name}'", problems)
    if problems:
        raise DefinitionError(problems)
    # Trigger problems (at the decorator) are reported with the body's, in one error.
    trigger_problems: list[Problem] = []
    trigger_specs: tuple[ir.TriggerSpec, ...] = ()
    if triggers:  # most workflows have none: the trigger module loads when one has
        from stratoflow.define._triggers import check_triggers  # noqa: PLC0415 - on first use

        trigger_specs = check_triggers(
            triggers, interface, name, decorated_at or function_location(fn), trigger_problems
        )
    trace = Trace(workflow=name)
    trace.problems.extend(trigger_problems)
    notification_specs = _notification_specs(
        notifications, name, decorated_at or function_location(fn), trace
    )
    inputs = {
        v.name: Promise(trace, ir.InputBinding.trusted(name=v.name), v.type, f"workflow input '{v.name}'")
        for v in interface.inputs
    }
    returns_at = parameter_location(fn, None)  # the return annotation the value must match
    with trace:
        try:
            result = fn(**inputs)
        except DefinitionError as exc:
            trace.problems.extend(exc.problems)
            result = None
        except Exception as exc:  # noqa: BLE001 - user code failed while tracing: report where
            where = _exception_location(exc)
            trace.problem(f"workflow '{name}' body raised {type(exc).__name__}: {exc}", where)
            result = None
    handler = None
    if on_failure is not None:  # named after the body's nodes, so its id is unique among them
        node_id = trace.new_node_id(getattr(on_failure, "name", "on_failure"))
        where = decorated_at or function_location(fn)
        handler = check_failure_handler(
            on_failure,
            node_id=node_id,
            interface=interface,
            workflow=name,
            where=where,
            problems=trace.problems,
        )
    if not trace.problems:
        annotated = "return" in getattr(fn, "__annotations__", {})
        output_bindings = _bind_outputs(trace, result, interface, returns_at, annotated=annotated)
    if trace.problems:
        raise DefinitionError(trace.problems)
    return WorkflowDef(
        fn,
        name=name,
        interface=interface,
        calls=tuple(trace.calls),
        output_bindings=output_bindings,
        triggers=trigger_specs,
        on_failure=handler,
        failure_policy=failure_policy,
        notifications=notification_specs,
    )


def _notification_specs(
    notifications: Sequence[object], name: str, where: ir.SourceLocation, trace: Trace
) -> tuple[ir.NotificationSpec, ...]:
    """The IR of ``@workflow(notifications=...)``; anything but Email, Slack, PagerDuty or Webhook is a problem."""
    if not notifications:  # most workflows have none: the schedules module loads when one has
        return ()
    from stratoflow.define._schedules import Notification, Webhook  # noqa: PLC0415 - on first use

    bad = [n for n in notifications if not isinstance(n, Notification | Webhook)]
    if bad:
        trace.problem(
            f"workflow '{name}' notifications must be Email, Slack, PagerDuty or Webhook, "
            f"got {type(bad[0]).__name__}",
            where,
        )
        return ()
    return tuple(n.to_spec() for n in notifications if isinstance(n, Notification | Webhook))


@overload
def workflow(fn: Callable[P, R], /) -> WorkflowDef[P, R]: ...


@overload
def workflow(
    *,
    name: str | None = None,
    triggers: Sequence[S3Trigger] = (),
    on_failure: TaskDef[..., H] | WorkflowDef[..., Any] | None = None,
    failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY,
    notifications: Sequence[Notification | Webhook] = (),
) -> Callable[[Callable[P, R]], WorkflowDef[P, R]]: ...


def workflow(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    triggers: Sequence[S3Trigger] = (),
    on_failure: TaskDef[..., H] | WorkflowDef[..., Any] | None = None,
    failure_policy: WorkflowFailurePolicy = WorkflowFailurePolicy.FAIL_IMMEDIATELY,
    notifications: Sequence[Notification | Webhook] = (),
) -> WorkflowDef[P, R] | Callable[[Callable[P, R]], WorkflowDef[P, R]]:
    """Declare a workflow. Its body runs once, now, to record which tasks feed which.

    ``triggers`` start it on AWS when a matching object lands in the stack's bucket
    (:class:`~stratoflow.S3Trigger`); problems with them point at the decorator's line.
    ``on_failure`` is a task (or a workflow of one task call) called with the workflow's inputs
    when the workflow fails (the run still fails with the original error); ``failure_policy`` (Flyte's
    :class:`WorkflowFailurePolicy`) says whether nodes independent of a failed one still run.

    Example:
        >>> @workflow
        ... def pipeline(x: int) -> int:
        ...     return double(x=double(x=x))  # doctest: +SKIP
    """
    decorated_at = caller_location()
    if fn is not None:
        return _trace_workflow(fn, name or fn.__name__, triggers, decorated_at)

    def decorate(inner: Callable[P, R]) -> WorkflowDef[P, R]:
        return _trace_workflow(
            inner,
            name or inner.__name__,
            triggers,
            decorated_at,
            on_failure=on_failure,
            failure_policy=failure_policy,
            notifications=notifications,
        )

    return decorate
