"""``pandas.DataFrame`` and ``pyarrow.Table`` values, stored as Parquet blobs and known by content.

A frame's JSON is ``{"uri", "sha256", "size", "format": "parquet"}``: the Parquet bytes go to the
content-addressed blob store (verified on every read, like a File's), and the cache sees only
their hash. The bytes are deterministic for a given pyarrow and pandas (no write time is
recorded), so equal frames give equal cache keys in every process. Nothing is pickled: Parquet
holds data only.

pandas and pyarrow are optional (``pip install "stratoflow[dataframe]"``); they are imported
only when a task's interface names a frame, and a missing one is a clear error.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow import ir

if TYPE_CHECKING:
    from stratoflow.values._blobs import BlobStore

__all__ = [
    "KINDS",
    "ColumnsError",
    "Mismatch",
    "as_arrow",
    "as_kind",
    "coerce",
    "column_names",
    "from_json",
    "kind_of",
    "parquet_bytes",
    "read_table",
    "select",
    "to_json",
]

KINDS = frozenset({"dataframe", "arrow_table"})
# Matched by name, so recognising an annotation never imports pandas or pyarrow.
_CLASSES = {
    ("pandas", "DataFrame"): "dataframe",  # pandas 3 spells its module so
    ("pandas.core.frame", "DataFrame"): "dataframe",
    ("pyarrow.lib", "Table"): "arrow_table",
}
_EXTRA = 'pip install "stratoflow[dataframe]"'


class Mismatch(Exception):
    """The value is not a frame of the kind (the codec raises its ValueTypeError with the path)."""


def kind_of(annotation: Any) -> str | None:
    """``"dataframe"`` / ``"arrow_table"`` for ``pandas.DataFrame`` / ``pyarrow.Table``, else None."""
    if not isinstance(annotation, type):
        return None
    return _CLASSES.get((annotation.__module__, annotation.__qualname__))


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional, and heavy: only when a frame is used
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"DataFrame and Table values need pyarrow: {_EXTRA}") from exc
    return pa, pq


def _is_kind(value: object, kind: str) -> bool:
    found = kind_of(type(value))
    return found == kind


class ColumnsError(ValueError):
    """A table lacks a column its type names (``Annotated[StructuredDataset, kwtypes(c=int)]``)."""


def as_arrow(value: object) -> Any:
    """A DataFrame or Table as a Table (a DataFrame keeps its index and dtypes via pandas metadata).

    As ``DataFrame.to_parquet`` (and so Flyte) writes it: a RangeIndex is metadata only, so a reader
    of a pyarrow Table sees the frame's columns and no ``__index_level_0__``; other indexes are columns.
    """
    pa, _ = _pyarrow()
    return (
        value if kind_of(type(value)) == "arrow_table" else pa.Table.from_pandas(value, preserve_index=None)
    )


def select(table: Any, columns: tuple[str, ...], *, keep_index: bool = True) -> Any:
    """``table`` with only ``columns`` (and a DataFrame's index unless not ``keep_index``: pandas' and
    pyarrow's Parquet readers differ so), or a ColumnsError naming the missing ones."""
    if not columns:
        return table
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ColumnsError(
            f"the table has no column {', '.join(map(repr, missing))} (its columns: "
            f"{', '.join(_data_columns(table)) or 'none'})"
        )
    index = _index_columns(table) if keep_index else []
    keep = list(columns) + [c for c in index if c not in columns]
    return table.select(keep)


def _index_columns(table: Any) -> list[str]:
    """The columns pandas stored a DataFrame's index in (named in the schema's pandas metadata)."""
    import json  # noqa: PLC0415 - only for frames with pandas metadata

    meta = (table.schema.metadata or {}).get(b"pandas")
    if meta is None:
        return []
    return [c for c in json.loads(meta).get("index_columns", ()) if isinstance(c, str)]


def _data_columns(table: Any) -> list[str]:
    index = set(_index_columns(table))
    return [c for c in table.column_names if c not in index]


def parquet_bytes(value: object, kind: str, columns: tuple[str, ...] = ()) -> bytes:
    """The frame as Parquet bytes, only ``columns`` if given (a DataFrame keeps its index and dtypes)."""
    _, pq = _pyarrow()
    del kind  # the value's own type says how to convert it
    table = select(as_arrow(value), columns)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def to_json(value: object, t: ir.TypeRef, store: BlobStore | None, sha256_hex: Any) -> Any:
    """The frame's JSON (its Parquet blob in ``store``); ``None`` when only checking (no store)."""
    if not _is_kind(value, t.kind):
        raise Mismatch
    if store is None:
        return None
    data = parquet_bytes(value, t.kind, column_names(t))
    digest = sha256_hex(data)
    uri = store.put_bytes(data, digest=digest)
    return {"uri": uri, "sha256": digest, "size": len(data), "format": "parquet"}


def column_names(t: ir.TypeRef) -> tuple[str, ...]:
    """The columns a table type names (empty: all of them)."""
    return tuple(name for name, _ in t.columns)


def read_table(data: bytes, columns: tuple[str, ...] = (), *, keep_index: bool = True) -> Any:
    """Parquet bytes as a Table, only ``columns`` if given (a ColumnsError names a missing one)."""
    _, pq = _pyarrow()
    # On one thread: a process that read a Parquet blob with pyarrow's thread pool could abort as
    # it exited ("terminate called without an active exception", 5 of 60 cache-hit runs measured,
    # none after). A value's blob is one in-memory buffer: the pool bought little.
    return select(pq.read_table(io.BytesIO(data), use_threads=False), columns, keep_index=keep_index)


def as_kind(table: Any, kind: str) -> Any:
    """A Table as a DataFrame (``kind`` ``"dataframe"``) or left a Table."""
    return table.to_pandas() if kind == "dataframe" else table


def _read(data: bytes, kind: str, columns: tuple[str, ...] = ()) -> Any:
    # As Flyte's decoders read a subset: pandas with the frame's index, pyarrow without.
    return as_kind(read_table(data, columns, keep_index=kind == "dataframe"), kind)


def from_json(value: dict[str, Any], t: ir.TypeRef, store: BlobStore | None) -> Any:
    """The frame back from its verified blob."""
    if store is None:
        raise ValueError(f"a {t.render()} value needs its blob store to be read")
    return _read(store.get_bytes(value["uri"]), t.kind, column_names(t))


def coerce(value: object, t: ir.TypeRef) -> object:
    """A CLI or JSON input: a path to a ``.parquet`` or ``.csv`` file is read into a frame."""
    if isinstance(value, str) and value.endswith((".parquet", ".csv")):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"{value} does not exist")
        if path.suffix == ".parquet":
            return _read(path.read_bytes(), t.kind)
        _pyarrow()  # the clear error when pyarrow is missing
        import pyarrow.csv as pacsv  # noqa: PLC0415

        table = pacsv.read_csv(str(path))
        return table.to_pandas() if t.kind == "dataframe" else table
    return value
