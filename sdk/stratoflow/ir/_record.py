"""The base of the IR's classes: frozen dataclasses that pydantic validates and serializes on demand.

A local run builds its workflow's IR, reads it and never serializes it, yet importing pydantic
and building the IR's classes as pydantic models was most of a short run's time (about 70 ms
of a 200 ms process). So the IR's classes are standard-library dataclasses (``@dataclass(
frozen=True, kw_only=True)``, subclasses of :class:`Record`), and pydantic is imported only
when one is validated or serialized: the wire (the ASL backend, the runner, the client), a
constructor call (which validates, as a pydantic model's does), or the test suite.

What a pydantic model offered is kept, under the same names, so callers do not change:
``model_validate[_json]``, ``model_dump[_json]``, ``model_copy``, ``model_construct``, and a
class used as a field of a pydantic model validates and serializes as one
(``__get_pydantic_core_schema__``). The schema pydantic builds for a record is its dataclass
schema (extra keys forbidden), with the record's :meth:`Record._trim` applied to what it dumps:
fields left out when unset, so specs keep their bytes (and their spec keys) as fields are added.
A ``Literal`` ``kind`` field tells the members of a union apart.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Final, Self

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, TypeAdapter
    from pydantic_core import CoreSchema

__all__ = ["JsonValue", "Record", "tagged_union"]

# Set by the test suite: every `trusted` construction is also validated, and must come out the same.
_CHECK_TRUSTED: Final = os.environ.get("STRATOFLOW_CHECK_IR") == "1"
_REQUIRED: Final = object()
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}
_PLANS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}  # per class: its fields (_plan)
_pydantic_builds = threading.local()  # set while pydantic builds records itself (no re-validation)


if TYPE_CHECKING:
    from pydantic import JsonValue
else:

    class JsonValue:
        """Any JSON value, as pydantic's ``JsonValue`` validates it (imported when a schema is built)."""

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
            from pydantic import JsonValue as PydanticJsonValue  # noqa: PLC0415

            return handler.generate_schema(PydanticJsonValue)


def tagged_union(name: str, *members: type[Record]) -> Any:
    """A union of records for pydantic to tell apart by their ``kind`` field (its
    ``Field(discriminator="kind")``, made when a schema is built: validating goes straight to the
    member a ``kind`` names, where trying each member in turn took twice as long). Only for
    annotations, as the union type it stands for (``Node``, ``Binding``) is to type checkers."""

    def schema(cls: type, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from typing import Annotated, Union  # noqa: PLC0415

        from pydantic import Field  # noqa: PLC0415

        return handler.generate_schema(Annotated[Union[members], Field(discriminator="kind")])  # noqa: UP007

    return type(name, (), {"__get_pydantic_core_schema__": classmethod(schema), "members": members})


def _adapter(cls: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter  # noqa: PLC0415 - only where a record is validated or dumped

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


class Record:
    """A frozen IR dataclass with pydantic's model methods (see the module)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    def __post_init__(self) -> None:
        # A constructor call validates (and coerces: lists to tuples, ...), as a pydantic model's
        # did; pydantic building a record while it validates one does not come back here.
        if getattr(_pydantic_builds, "active", False):
            return
        checked = type(self).model_validate(dict(self.__dict__))
        object.__setattr__(self, "__dict__", checked.__dict__)

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        """What this record dumps, from the dict of all its fields (default: all of them)."""
        return data

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema  # noqa: PLC0415

        schema = handler(source)
        if cls._trim is not Record._trim:
            trim = cls._trim
            serializer = core_schema.wrap_serializer_function_ser_schema(
                lambda value, dump: trim(dump(value))
            )
            schema["serialization"] = serializer  # type: ignore[index]  # every schema kind takes one
        if schema.get("type") == "dataclass":
            # Wherever pydantic validates a record (here, or as a field of a wire model), the
            # record it builds skips __post_init__'s validation: it was just validated.
            schema["post_init"] = False  # type: ignore[index]
        return schema

    @classmethod
    def model_validate(cls, obj: Any) -> Self:
        """``obj`` (a dict, or a record) validated as this class: pydantic's ``ValidationError`` if not."""
        return cls._validating(lambda adapter: adapter.validate_python(obj))

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Self:
        """The record the JSON text ``data`` holds, validated."""
        return cls._validating(lambda adapter: adapter.validate_json(data))

    @classmethod
    def _validating(cls, validate: Any) -> Self:
        outer = getattr(_pydantic_builds, "active", False)
        _pydantic_builds.active = True
        try:
            built: Self = validate(_adapter(cls))
        finally:
            _pydantic_builds.active = outer
        return built

    def model_dump(self, **options: Any) -> Any:
        """This record as dicts and lists (``mode="json"``: JSON types); pydantic's options."""
        return _adapter(type(self)).dump_python(self, **options)

    def model_dump_json(self, **options: Any) -> str:
        """This record as JSON text, as pydantic writes it."""
        return _adapter(type(self)).dump_json(self, **options).decode()

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update``'s fields replaced, not validated (as pydantic's ``model_copy``)."""
        copied = copy.deepcopy(self) if deep else copy.copy(self)
        if update:
            copied.__dict__.update(update)
        return copied

    @classmethod
    def model_construct(cls, **fields: Any) -> Self:
        """A record of ``fields`` and the defaults of the others, not validated (for doctests)."""
        built = cls.__new__(cls)
        data = {
            name: fields[name] if name in fields else factory() if factory is not None else default
            for name, default, factory in _plan(cls)
        }
        object.__setattr__(built, "__dict__", data)
        return built

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """This record from values stratoflow computed itself (tracing, lowering), not validated again.

        Validation needs pydantic and its schema for this class: most of a small local run's
        time, spent on values that are already right. Callers pass exactly the field types
        (tuples, not lists). With STRATOFLOW_CHECK_IR=1 (the test suite) every call is
        validated too and a difference raises TypeError.

        Example:
            >>> from stratoflow.ir import TypeRef
            >>> TypeRef.trusted(kind="list", args=(TypeRef.trusted(kind="int"),)).render()
            'list[int]'
        """
        data: dict[str, Any] = {}
        given = 0
        for name, default, factory in _plan(cls):
            if name in fields:
                data[name] = fields[name]
                given += 1
            elif factory is not None:
                data[name] = factory()  # a fresh dict per record, as validation gives
            elif default is _REQUIRED:
                raise TypeError(f"{cls.__name__}.trusted: missing field '{name}'")
            else:
                data[name] = default
        if given != len(fields):
            raise TypeError(f"{cls.__name__}.trusted: unknown fields {sorted(fields.keys() - data.keys())}")
        built = cls.__new__(cls)
        object.__setattr__(built, "__dict__", data)
        if _CHECK_TRUSTED:
            validated = cls(**fields)
            if validated.__dict__ != data or any(
                type(validated.__dict__[k]) is not type(v) for k, v in data.items()
            ):
                raise TypeError(
                    f"{cls.__name__}.trusted built {data!r}, validation gives {validated.__dict__!r}"
                )
        return built

    def plain(self) -> dict[str, Any]:
        """This record as JSON-ready dicts and lists, built without pydantic.

        For bookkeeping that only reads it back (the local run history keeps each run's spec for
        ``executions show`` and the UI). ``model_validate`` of the result gives this record
        again (checked with STRATOFLOW_CHECK_IR=1); the bytes are not the canonical spec JSON,
        which names spec keys (``protocol.spec_json_bytes``).
        """
        data = {name: _plain(value) for name, value in self.__dict__.items()}
        if _CHECK_TRUSTED and type(self).model_validate(data) != self:
            raise TypeError(f"{type(self).__name__}.plain does not read back as the same record")
        return data


def _plan(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """``cls``'s fields in order: (name, default or _REQUIRED, default factory or None)."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = tuple(
            (
                field.name,
                _REQUIRED if field.default is dataclasses.MISSING else field.default,
                None if field.default_factory is dataclasses.MISSING else field.default_factory,
            )
            for field in dataclasses.fields(cls)
        )
    return plan


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return {name: _plain(item) for name, item in value.__dict__.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
