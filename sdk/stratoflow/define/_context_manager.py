"""flytekit's ``FlyteContextManager.current_context()``, for what Flyte code reads of it.

A workflow decorator (flytesnacks' ``decorating_workflows.py``) reads
``ctx.compilation_state.nodes`` while the body is traced, to order a setup node before the body's
first node and a teardown node after its last. Here the compilation state is the trace being
recorded: its nodes are the calls made so far in the current scope, in order, as node handles that
``>>`` orders and whose outputs read as ``node.o0``. Outside a workflow body it is ``None``, as in
flytekit's local runs. Inside a task, ``ctx.user_space_params`` is ``current_context()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.define._execution import current_context
from stratoflow.define._nodes import NodeHandle
from stratoflow.define._trace import Promise, Trace, active_trace

if TYPE_CHECKING:
    from stratoflow.define._parameters import ExecutionParameters

__all__ = ["CompilationState", "FlyteContext", "FlyteContextManager"]


class CompilationState:
    """The workflow body being traced (flytekit's ``CompilationState``): its nodes so far."""

    def __init__(self, trace: Trace) -> None:
        self._trace = trace

    @property
    def nodes(self) -> list[NodeHandle]:
        """The calls made so far in the current scope, in order, as nodes."""
        handles = []
        for call in self._trace.calls:
            interface = getattr(getattr(call, "target", None), "interface", None)
            outputs = {
                v.name: Promise(
                    self._trace,
                    ir.PromiseBinding.trusted(node=call.node_id, output=v.name),
                    v.type,
                    f"output '{v.name}' of node '{call.node_id}'",
                )
                for v in (interface.outputs if interface is not None else ())
            }
            handles.append(NodeHandle(self._trace, call.node_id, outputs))
        return handles


class FlyteContext:
    """What flytekit's context holds that Flyte code reads: the compilation state, the task's parameters."""

    @property
    def compilation_state(self) -> CompilationState | None:
        """The workflow body being traced, or ``None`` outside one."""
        trace = active_trace()
        return None if trace is None else CompilationState(trace)

    @property
    def user_space_params(self) -> ExecutionParameters:
        """``current_context()``: the running task's execution parameters."""
        return current_context()


class FlyteContextManager:
    """flytekit's ``FlyteContextManager``: ``current_context()`` is the context of the caller."""

    @staticmethod
    def current_context() -> FlyteContext:
        """The caller's context (a workflow body's compilation state, a task's parameters)."""
        return FlyteContext()
