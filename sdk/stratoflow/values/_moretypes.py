"""``datetime``, ``date``, ``timedelta``, ``Decimal`` and ``Enum`` values: their JSON and back.

Each has one canonical JSON form, so equal values hash equally in every process (cache keys):
datetimes and dates as ISO 8601 (a timezone, if any, kept), a timedelta as whole
microseconds, a Decimal as its string (exact), an Enum member as its value (str or int;
the class is named by the TypeRef). Nothing here is pickled.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import Any

from stratoflow import ir
from stratoflow.values._typeref import resolve_class

__all__ = ["KINDS", "Mismatch", "coerce", "from_json", "to_json"]

KINDS = frozenset({"datetime", "date", "timedelta", "decimal", "enum"})
_MICROSECOND = dt.timedelta(microseconds=1)


class Mismatch(Exception):
    """The value is not of the kind (the codec raises its ValueTypeError with the path)."""


def to_json(value: object, t: ir.TypeRef) -> Any:
    """The canonical JSON of ``value`` (of kind ``t.kind``); raises Mismatch if it is not one."""
    kind = t.kind
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.isoformat()
    if kind == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if kind == "timedelta" and isinstance(value, dt.timedelta):
        return value // _MICROSECOND
    if kind == "decimal" and isinstance(value, decimal.Decimal) and value.is_finite():
        return str(value)
    # The member's own class, named like the TypeRef: no import needed (a module being defined).
    if (
        kind == "enum"
        and isinstance(value, enum.Enum)
        and f"{type(value).__module__}:{type(value).__qualname__}" == t.ref
    ):
        member: Any = value.value
        if isinstance(member, str | int) and not isinstance(member, bool):
            return member
    raise Mismatch


def from_json(value: Any, t: ir.TypeRef) -> Any:
    kind = t.kind
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "timedelta":
        return dt.timedelta(microseconds=value)
    if kind == "decimal":
        return decimal.Decimal(value)
    return resolve_class(t.ref or "")(value)


def coerce(value: object, t: ir.TypeRef) -> object:
    """A CLI or JSON input as a value of the kind: ISO strings, seconds, decimal strings, enum values or names."""
    kind = t.kind
    try:
        if kind == "datetime" and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if kind == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind == "timedelta" and isinstance(value, int | float) and not isinstance(value, bool):
            return dt.timedelta(seconds=value)
        if kind == "decimal" and isinstance(value, str | int) and not isinstance(value, bool):
            return decimal.Decimal(value)
        if kind == "enum" and not isinstance(value, enum.Enum):
            cls = resolve_class(t.ref or "")
            try:
                return cls(value)
            except ValueError:
                if isinstance(value, str) and value in cls.__members__:
                    return cls.__members__[value]
                raise
    except (ValueError, decimal.InvalidOperation):
        return value  # left as given: the codec's check reports it as the wrong type
    return value
