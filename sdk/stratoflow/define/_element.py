"""Items of a promise in a workflow body, as Flyte has them: ``out[0]``, ``out["k"]``, ``out.field``.

The item is an :class:`~stratoflow.ir.ElementBinding`, resolved when the reading node runs;
an index or key that cannot fit the container's type is a definition problem at its line.
"""

from __future__ import annotations

import dataclasses
import typing

from stratoflow import ir, values
from stratoflow.define._trace import Promise, Trace

__all__ = ["attribute_promise", "index_promise"]


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
        binding = ir.ElementBinding.trusted(of=promise.binding, type=t, key=key, item_type=t.args[0])
        return Promise(trace, binding, t.args[0], f"{promise.what}[{key!r}]")
    try:
        text = values.key_text(key, t.args[0])  # dict keys are stored as their JSON text
    except values.ValueTypeError:
        trace.problem(
            f"{where} is a {t.render()}: its keys are {t.args[0].render()}, got {type(key).__name__} {key!r}",
            location,
        )
        return promise
    binding = ir.ElementBinding.trusted(of=promise.binding, type=t, key=text, item_type=t.args[1])
    return Promise(trace, binding, t.args[1], f"{promise.what}[{key!r}]")


def _field_hints(t: ir.TypeRef) -> dict[str, object]:
    cls = values.resolve_class(t.ref or "")
    if t.kind == "dataclass":
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return {name: info.annotation for name, info in cls.model_fields.items()}


def attribute_promise(trace: Trace, promise: Promise, name: str, location: ir.SourceLocation) -> Promise:
    """A promise of field ``name`` of a dataclass or pydantic ``promise`` (Flyte's ``out.field``)."""
    t = promise.type
    fields = _field_hints(t)
    if name not in fields:
        trace.problem(
            f"{promise.what} in workflow '{trace.workflow}' is a {t.render()}, which has no field '{name}'",
            location,
            hint=f"its fields are: {', '.join(fields) or 'none'}",
        )
        return promise
    item_type = values.typeref_of(fields[name])  # checked when the class was first used as a type
    binding = ir.ElementBinding.trusted(of=promise.binding, type=t, key=name, item_type=item_type)
    return Promise(trace, binding, item_type, f"{promise.what}.{name}")
