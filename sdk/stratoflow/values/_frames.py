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

__all__ = ["KINDS", "Mismatch", "coerce", "from_json", "kind_of", "to_json"]

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


def parquet_bytes(value: object, kind: str) -> bytes:
    """The frame as Parquet bytes (a DataFrame keeps its index and dtypes via pandas metadata)."""
    pa, pq = _pyarrow()
    table = pa.Table.from_pandas(value, preserve_index=True) if kind == "dataframe" else value
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def to_json(value: object, t: ir.TypeRef, store: BlobStore | None, sha256_hex: Any) -> Any:
    """The frame's JSON (its Parquet blob in ``store``); ``None`` when only checking (no store)."""
    if not _is_kind(value, t.kind):
        raise Mismatch
    if store is None:
        return None
    data = parquet_bytes(value, t.kind)
    digest = sha256_hex(data)
    uri = store.put_bytes(data, digest=digest)
    return {"uri": uri, "sha256": digest, "size": len(data), "format": "parquet"}


def _read(data: bytes, kind: str) -> Any:
    _, pq = _pyarrow()
    table = pq.read_table(io.BytesIO(data))
    return table.to_pandas() if kind == "dataframe" else table


def from_json(value: dict[str, Any], t: ir.TypeRef, store: BlobStore | None) -> Any:
    """The frame back from its verified blob."""
    if store is None:
        raise ValueError(f"a {t.render()} value needs its blob store to be read")
    return _read(store.get_bytes(value["uri"]), t.kind)


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
