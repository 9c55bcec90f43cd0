"""Files, directories and tables as fields of a user's pydantic model (Flyte's ``BaseModel``
holding ``FlyteFile``, ``FlyteDirectory`` or ``StructuredDataset`` fields).

pydantic builds a schema for every field when the model class is defined, and knows nothing of
these classes: without one, ``class Report(BaseModel): file: File`` fails at its definition. Each
class hands pydantic :func:`field_schema`: the field takes an instance (or, for a file or a
directory, a path, as Flyte does) and dumps in JSON mode as its URI. What moves between tasks is
not pydantic's dump: the value codec stores such fields as it stores a task's own ``File`` output,
by contents (``_codec`` walks the fields whose type :func:`mentions` one).

pydantic is imported only when a model using one of these classes is defined.
"""

from __future__ import annotations

import os
import typing
from typing import Any

__all__ = ["field_schema", "mentions"]


def field_schema(cls: type, *, from_path: bool) -> Any:
    """The pydantic core schema of a field of type ``cls`` (a ``__get_pydantic_core_schema__``'s)."""
    from pydantic_core import core_schema  # noqa: PLC0415 - only where a model holds one

    def validate(value: object) -> object:
        if isinstance(value, cls):
            return value
        if from_path and isinstance(value, str | os.PathLike):
            return cls(value)
        wanted = f"a {cls.__name__} or a path" if from_path else f"a {cls.__name__}"
        raise ValueError(f"expected {wanted}, got {type(value).__name__}")

    return core_schema.no_info_plain_validator_function(
        validate,
        serialization=core_schema.plain_serializer_function_ser_schema(_uri, when_used="json"),
    )


def _uri(value: object) -> str | None:
    uri = getattr(value, "uri", None)
    return uri if isinstance(uri, str) else None


def mentions(annotation: Any, classes: tuple[type, ...]) -> bool:
    """Whether ``annotation`` is, or has among its type arguments, a subclass of one of ``classes``."""
    if isinstance(annotation, type) and issubclass(annotation, classes):
        return True
    return any(mentions(arg, classes) for arg in typing.get_args(annotation))
