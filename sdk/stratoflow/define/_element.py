"""Indexing a promise in a workflow body: ``out[0]`` of a list, ``out["k"]`` of a dict (Flyte's form).

The item is an :class:`~stratoflow.ir.ElementBinding`, resolved when the reading node runs;
an index or key that cannot fit the container's type is a definition problem at its line.
"""

from __future__ import annotations

from stratoflow import ir, values
from stratoflow.define._trace import Promise, Trace

__all__ = ["index_promise"]


def index_promise(trace: Trace, promise: Promise, key: object, location: ir.SourceLocation) -> Promise:
    """A promise of item ``key`` of ``promise`` (a list or a dict); a problem if ``key`` cannot be one."""
    t = promise.type
    where = f"{promise.what} in workflow '{trace.workflow}'"
    if isinstance(key, Promise):
        trace.problem(
            f"{where} is indexed by a promise; the index must be a constant",
            location,
            hint="use @dynamic or map_task for data-dependent indexing",
        )
        return promise
    if t.kind == "list":
        if type(key) is not int:
            trace.problem(
                f"{where} is a {t.render()}: its index must be an int, got {type(key).__name__} {key!r}",
                location,
            )
            return promise
        binding = ir.ElementBinding(of=promise.binding, type=t, key=key)
        return Promise(trace, binding, t.args[0], f"{promise.what}[{key!r}]")
    try:
        text = values.key_text(key, t.args[0])  # dict keys are stored as their JSON text
    except values.ValueTypeError:
        trace.problem(
            f"{where} is a {t.render()}: its keys are {t.args[0].render()}, got {type(key).__name__} {key!r}",
            location,
        )
        return promise
    binding = ir.ElementBinding(of=promise.binding, type=t, key=text)
    return Promise(trace, binding, t.args[1], f"{promise.what}[{key!r}]")
