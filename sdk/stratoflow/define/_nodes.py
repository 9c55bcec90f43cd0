"""What a call in a body returns, as a node: ``a >> b``, ``create_node`` / ``runs_before``, and
``with_overrides`` (resolving a promise or node to the call it came from).

A task with no outputs returns a :class:`VoidPromise` in a workflow body (Flyte's name), so
it can still be ordered. ``create_node(task, **inputs)`` records the same call as ``task(**inputs)``
and returns a :class:`NodeHandle`: ``>>`` / ``runs_before`` order it, and its outputs are
attributes (``node.o0``) or ``node.outputs["o0"]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from stratoflow import ir
from stratoflow.define._location import caller_location
from stratoflow.define._trace import Promise, Trace, active_trace

if TYPE_CHECKING:
    from stratoflow.define._task import TaskDef
    from stratoflow.define._workflow import WorkflowDef

__all__ = ["NodeHandle", "VoidPromise", "create_node", "order_nodes", "override_node"]


def _node_of(value: object) -> str | None:
    if isinstance(value, Promise):
        # Only a call's own output names its node; an item of one (``out[0]``) does not.
        return value.binding.node if isinstance(value.binding, ir.PromiseBinding) else None
    node = getattr(value, "node_id", None)
    return node if isinstance(node, str) else None


def override_node(
    trace: Trace, value: object, overrides: dict[str, Any], location: ir.SourceLocation
) -> None:
    """``value.with_overrides(**overrides)`` for a call's promise (or node)."""
    from stratoflow.define._overrides import override_call  # noqa: PLC0415 - _overrides imports _task

    node = _node_of(value)
    if node is None:
        trace.problem(f"with_overrides() applies to a task call, got {value!r:.60}", location)
        return
    override_call(trace, node, overrides, location)


def order_nodes(trace: Trace, upstream: object, downstream: object, location: ir.SourceLocation) -> None:
    """Record ``upstream >> downstream`` between two calls' promises (or nodes)."""
    first = upstream[0] if isinstance(upstream, tuple) and upstream else upstream
    second = downstream[0] if isinstance(downstream, tuple) and downstream else downstream
    before, after = _node_of(first), _node_of(second)
    if before is None or after is None:
        bad = first if before is None else second
        trace.problem(
            f"'>>' orders task or workflow calls, got {bad!r:.60}; workflow inputs and constants "
            "need no ordering",
            location,
        )
        return
    trace.order(before, after, location)


class VoidPromise:
    """What calling a task without outputs returns in a workflow body: a node to order, no value."""

    __slots__ = ("node_id", "trace")

    def __init__(self, trace: Trace, node_id: str) -> None:
        self.trace, self.node_id = trace, node_id

    def __rshift__(self, other: object) -> object:
        order_nodes(self.trace, self, other, caller_location())
        return other

    def runs_before(self, other: object) -> object:
        order_nodes(self.trace, self, other, caller_location())
        return other

    def with_overrides(self, **overrides: Any) -> Self:
        override_node(self.trace, self, overrides, caller_location())
        return self

    def __repr__(self) -> str:
        return f"VoidPromise(node '{self.node_id}')"


class NodeHandle:
    """A recorded call as a node (Flyte's ``create_node``): order it, read its outputs by name."""

    def __init__(self, trace: Trace, node_id: str, outputs: dict[str, Promise]) -> None:
        self.trace, self.node_id, self.outputs = trace, node_id, outputs

    def __rshift__(self, other: object) -> object:
        order_nodes(self.trace, self, other, caller_location())
        return other

    def runs_before(self, other: object) -> object:
        order_nodes(self.trace, self, other, caller_location())
        return other

    def with_overrides(self, **overrides: Any) -> Self:
        override_node(self.trace, self, overrides, caller_location())
        return self

    def __getattr__(self, name: str) -> Promise:
        outputs = self.__dict__.get("outputs", {})
        if name in outputs:
            return outputs[name]  # type: ignore[no-any-return]
        known = ", ".join(outputs) or "none"
        raise AttributeError(
            f"node '{self.__dict__.get('node_id')}' has no output {name!r} (its outputs: {known})"
        )

    def __repr__(self) -> str:
        return f"NodeHandle('{self.node_id}')"


def create_node(entity: TaskDef[Any, Any] | WorkflowDef[Any, Any], **inputs: Any) -> NodeHandle:
    """Record ``entity(**inputs)`` as a node and return it (Flyte's ``create_node``)."""
    trace = active_trace()
    if trace is None:
        raise RuntimeError("create_node() can only be used in a workflow body")
    before = len(trace.calls)
    result = entity(**inputs)
    node_id = trace.calls[before].node_id if len(trace.calls) > before else ""
    names = [v.name for v in entity.interface.outputs]
    values = entity.interface.unshape(result) if names else ()
    promises = {name: p for name, p in zip(names, values or (), strict=False) if isinstance(p, Promise)}
    return NodeHandle(trace, node_id, promises)
