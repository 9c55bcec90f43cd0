"""Python annotations <-> :class:`stratoflow.ir.TypeRef`, and type compatibility."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import importlib
import sys
import types
import typing
from functools import cache
from typing import Any, Union

from stratoflow import ir
from stratoflow.values import _frames, _model_fields
from stratoflow.values._files import Directory, File
from stratoflow.values._structured import KINDS as TABLE_KINDS
from stratoflow.values._structured import StructuredDataset

__all__ = ["UnsupportedTypeError", "is_assignable", "resolve_class", "typeref_of"]

# Kinds, not TypeRefs: building a model here would load pydantic on `import stratoflow`.
_SCALARS: dict[Any, str] = {
    int: "int",
    float: "float",
    str: "str",
    bool: "bool",
    bytes: "bytes",
    type(None): "none",
    None: "none",
    File: "file",
    Directory: "directory",
    datetime.datetime: "datetime",
    datetime.date: "date",
    datetime.timedelta: "timedelta",
    decimal.Decimal: "decimal",
}


@cache
def _scalar(kind: str) -> ir.TypeRef:
    return ir.TypeRef.trusted(kind=kind)


SUPPORTED = (
    "int, float, str, bool, None, bytes, list[T], dict[K, T], Optional[T], "
    "dataclasses, pydantic models, File, Directory, datetime, date, timedelta, Decimal, Enum, "
    "pandas.DataFrame, pyarrow.Table"
)


KEY_TYPES = "str, int, float, bool or an Enum"


def _is_key_type(annotation: Any) -> bool:
    """Keys JSON objects can carry as text and read back exactly (a key's JSON form is its text)."""
    return annotation in (str, int, float, bool) or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    )


class UnsupportedTypeError(TypeError):
    """An annotation stratoflow cannot carry between tasks (message says which and why)."""


# Classes seen in annotations, by ref: a module being defined (or loaded from a file under a
# name that does not import) still resolves its own classes, as the task registry does for tasks.
_DEFINED: dict[str, Any] = {}


def _class_ref(cls: type) -> str:
    ref = f"{cls.__module__}:{cls.__qualname__}"
    _DEFINED[ref] = cls  # the latest definition wins, as a re-imported module's would
    return ref


def _is_pydantic_model(annotation: Any) -> bool:
    module = sys.modules.get("pydantic")
    return module is not None and isinstance(annotation, type) and issubclass(annotation, module.BaseModel)


def model_blob_annotations(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, annotation) of the fields of pydantic model ``cls`` that hold a File, a Directory or a
    StructuredDataset anywhere in their type: the value codec stores those by contents."""
    blobs = (File, Directory, StructuredDataset)
    fields: dict[str, Any] = getattr(cls, "model_fields", {})
    return tuple(
        (name, info.annotation)
        for name, info in fields.items()
        if _model_fields.mentions(info.annotation, blobs)
    )


def _untyped_dict() -> ir.TypeRef:
    return ir.TypeRef.trusted(kind="dict", args=(_scalar("str"), ir.TypeRef.trusted(kind="json")))


def typeref_of(annotation: Any) -> ir.TypeRef:  # noqa: C901 - a branch per kind of annotation
    """Map a Python annotation to a TypeRef, or raise UnsupportedTypeError saying why."""
    if typing.get_origin(annotation) is typing.Annotated:  # first: kwtypes metadata is unhashable
        base, *metadata = typing.get_args(annotation)
        inner = typeref_of(base)  # Annotated[T, ...] is T, a table's columns aside
        return _with_columns(inner, tuple(metadata)) if inner.kind in TABLE_KINDS else inner
    if annotation in _SCALARS:
        return _scalar(_SCALARS[annotation])
    frame = _frames.kind_of(annotation)
    if frame is not None:
        return _scalar(frame)
    if isinstance(annotation, type) and issubclass(annotation, File | Directory):  # File["csv"]
        return _scalar("file" if issubclass(annotation, File) else "directory")
    if isinstance(annotation, type) and issubclass(annotation, StructuredDataset):
        return _scalar("structured_dataset")
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list:
        if len(args) != 1:
            raise UnsupportedTypeError("bare 'list' needs an item type, e.g. list[int]")
        return ir.TypeRef.trusted(kind="list", args=(typeref_of(args[0]),))
    if origin is dict and not args:  # typing.Dict, bare
        return _untyped_dict()
    if origin is dict:
        key = typeref_of(args[0]) if len(args) == 2 and _is_key_type(args[0]) else None
        if key is None:
            raise UnsupportedTypeError(f"dict keys must be {KEY_TYPES}, e.g. dict[str, float]")
        if args[1] is typing.Any and key.kind == "str":  # dict[str, Any]: any JSON value
            return _untyped_dict()
        return ir.TypeRef.trusted(kind="dict", args=(key, typeref_of(args[1])))
    if origin in (Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        if len(others) == 1 and len(args) == 2:
            return ir.TypeRef.trusted(kind="optional", args=(typeref_of(others[0]),))
        raise UnsupportedTypeError(f"unions other than Optional[T] are not supported: {annotation!r}")
    if annotation is dict:
        # Flyte's untyped dict: a JSON object (str keys; values JSON: None, bool, int, float, str,
        # lists and dicts of them), stored and returned as such.
        return _untyped_dict()
    if annotation is list:
        raise UnsupportedTypeError("bare 'list' needs type arguments")
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        for field_type in typing.get_type_hints(annotation).values():
            typeref_of(field_type)
        return ir.TypeRef.trusted(kind="dataclass", ref=_class_ref(annotation))
    if _is_pydantic_model(annotation):
        for name, annotation_of_field in model_blob_annotations(annotation):
            try:
                typeref_of(annotation_of_field)  # the codec stores these fields itself: they must be ours
            except UnsupportedTypeError as exc:
                raise UnsupportedTypeError(f"field '{name}' of '{annotation.__name__}': {exc}") from exc
        return ir.TypeRef.trusted(kind="pydantic", ref=_class_ref(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = {type(member.value) for member in annotation}
        if not values or not (values <= {str} or values <= {int}) or bool in values:
            raise UnsupportedTypeError(
                f"Enum '{annotation.__name__}' must have all-str or all-int values to be carried as JSON"
            )
        return ir.TypeRef.trusted(kind="enum", ref=_class_ref(annotation))
    name = getattr(annotation, "__name__", None) or repr(annotation)
    raise UnsupportedTypeError(f"type '{name}' is not supported (supported: {SUPPORTED})")


def _with_columns(table: ir.TypeRef, metadata: tuple[Any, ...]) -> ir.TypeRef:
    """A table type with the columns Flyte reads from ``Annotated``: ``kwtypes(...)``, a dict, or a
    class's annotations (a format string, such as ``"parquet"``, is accepted and changes nothing)."""
    found: dict[str, Any] | None = None
    for meta in metadata:
        if isinstance(meta, dict):
            columns = meta
        elif isinstance(meta, type) and getattr(meta, "__annotations__", None):
            columns = typing.get_type_hints(meta)
        else:
            continue
        if found is not None:
            raise UnsupportedTypeError("a table's columns are given twice in one Annotated[...]")
        found = dict(columns)
    if not found:
        return table
    typed = []
    for name, hint in found.items():
        try:
            typed.append((str(name), typeref_of(hint)))
        except UnsupportedTypeError as exc:
            raise UnsupportedTypeError(f"column '{name}': {exc}") from exc
    return ir.TypeRef(kind=table.kind, columns=tuple(typed))


def _columns_fit(source: ir.TypeRef, target: ir.TypeRef) -> bool:
    """Flyte's check: every column the reader names, the writer names with the same type (a writer
    naming none is checked when read)."""
    if not target.columns or not source.columns:
        return True
    written = dict(source.columns)
    return all(written.get(name) == t for name, t in target.columns)


def resolve_class(ref: str) -> Any:
    """The object ``module:qualname`` names: a class already seen in an annotation, or imported."""
    found = _DEFINED.get(ref)
    return found if found is not None else _import_ref(ref)


@cache
def _import_ref(ref: str) -> Any:
    module_name, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def is_assignable(source: ir.TypeRef, target: ir.TypeRef) -> bool:
    """Whether a value of type ``source`` may feed an input of type ``target``."""
    if source == target:
        return True
    if source.kind in TABLE_KINDS and target.kind in TABLE_KINDS:
        return _columns_fit(source, target)  # one literal type in Flyte: a DataFrame feeds a Table
    if target.kind == "optional":
        return source.kind == "none" or is_assignable(
            source.args[0] if source.kind == "optional" else source, target.args[0]
        )
    if source.kind == "int" and target.kind == "float":
        return True
    if source.kind == target.kind and source.kind in ("list", "dict"):
        return all(is_assignable(s, t) for s, t in zip(source.args, target.args, strict=True))
    return False
