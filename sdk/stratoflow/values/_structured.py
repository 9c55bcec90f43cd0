"""flytekit's ``StructuredDataset``: a table (pandas DataFrame or pyarrow Table) stored as Parquet.

A StructuredDataset's JSON is a frame's (``{"uri", "sha256", "size", "format": "parquet"}``, see
``_frames``), so the three table kinds (``dataframe``, ``arrow_table``, ``structured_dataset``)
feed one another as in Flyte, where all three are one literal type. Its blob holds exactly the
columns its type names (``Annotated[StructuredDataset, kwtypes(a=int)]``): a writer keeps only
those, so a reader of a plain ``StructuredDataset`` gets what Flyte's gets (the columns of the
incoming literal), and a reader naming columns gets only its own. The hash is the Parquet
bytes', so equal tables give equal cache keys wherever they were written or read from.

A task receives a StructuredDataset unread: ``.open(pd.DataFrame).all()`` reads it then, as in
Flyte. ``StructuredDataset(uri=...)`` (a local Parquet or CSV file, a folder of Parquet files as
Flyte writes them, or an ``s3://`` object on AWS) is read and stored as the others are, so its
identity is its contents, not its address.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from stratoflow import ir
from stratoflow.values import _frames, _model_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from stratoflow.values._blobs import BlobStore

__all__ = ["CSV", "KINDS", "PARQUET", "StructuredDataset", "coerce", "from_json", "to_json"]

PARQUET: Final = "parquet"
CSV: Final = "csv"
GENERIC_FORMAT: Final = ""
KINDS: Final = _frames.KINDS | {"structured_dataset"}


class StructuredDataset:
    """A table passed between tasks, as flytekit's: wrap a DataFrame or Table, read it with ``open``.

    Example:
        >>> import pandas as pd  # doctest: +SKIP
        >>> sd = StructuredDataset(dataframe=pd.DataFrame({"a": [1, 2]}))  # doctest: +SKIP
        >>> sd.open(pd.DataFrame).all()["a"].tolist()  # doctest: +SKIP
        [1, 2]
    """

    def __init__(
        self,
        dataframe: Any = None,
        uri: str | None = None,
        metadata: object = None,
        **kwargs: Any,
    ) -> None:
        self._dataframe = dataframe
        self.uri = uri
        self.file_format: str = kwargs.get("file_format", GENERIC_FORMAT)
        self._metadata = metadata
        self._dataframe_type: type | None = None
        # Set when the value was read from a run: its verified blob, read on ``all()``.
        self._store: BlobStore | None = None
        self._sha256: str | None = None
        self._size = 0
        self._columns: tuple[str, ...] = ()

    @classmethod
    def _stored(cls, value: dict[str, Any], store: BlobStore, columns: tuple[str, ...]) -> StructuredDataset:
        made = cls(uri=value["uri"], file_format=value.get("format", PARQUET))
        made._store, made._sha256, made._size, made._columns = store, value["sha256"], value["size"], columns
        return made

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: object) -> object:
        """Lets a pydantic model have a StructuredDataset field (``_model_fields``)."""
        return _model_fields.field_schema(cls, from_path=False)

    @classmethod
    def columns(cls) -> dict[str, type]:
        """flytekit's class-level columns (always empty: columns come from ``Annotated``)."""
        return {}

    @classmethod
    def column_names(cls) -> list[str]:
        """The names of :meth:`columns`."""
        return list(cls.columns())

    @property
    def dataframe(self) -> Any:
        """The wrapped DataFrame or Table (``None`` for one received from another task)."""
        return self._dataframe

    @property
    def metadata(self) -> object:
        """flytekit's literal metadata: whatever was passed in (stratoflow keeps none)."""
        return self._metadata

    def open(self, dataframe_type: type) -> StructuredDataset:
        """Choose what :meth:`all` returns: ``pandas.DataFrame`` or ``pyarrow.Table``."""
        if _frames.kind_of(dataframe_type) is None:
            name = getattr(dataframe_type, "__qualname__", repr(dataframe_type))
            raise TypeError(f"StructuredDataset.open() takes pandas.DataFrame or pyarrow.Table, not {name}")
        self._dataframe_type = dataframe_type
        return self

    def all(self) -> Any:
        """The whole table, as the type given to :meth:`open` (only the columns its type names)."""
        if self._dataframe_type is None:
            raise ValueError(
                "No dataframe type set. Use open() to set the local dataframe type you want to use."
            )
        kind = _frames.kind_of(self._dataframe_type) or "dataframe"
        return _frames.as_kind(self._table(keep_index=kind == "dataframe"), kind)

    def iter(self) -> Iterator[Any]:
        """The table in one piece (flytekit's Parquet readers give no streaming either)."""
        yield self.all()

    def _table(self, *, keep_index: bool) -> Any:
        if self._dataframe is not None:
            return _frames.select(_frames.as_arrow(self._dataframe), self._columns, keep_index=keep_index)
        if self._store is not None and self.uri is not None:
            data = self._store.get_bytes(self.uri)
            return _frames.read_table(data, self._columns, keep_index=keep_index)
        if self.uri is not None:
            return _frames.select(_read_uri(self.uri, self.file_format, None), self._columns)
        raise ValueError("this StructuredDataset has neither a dataframe nor a uri")

    def __repr__(self) -> str:
        if self._dataframe is not None:
            return f"StructuredDataset(dataframe={type(self._dataframe).__name__})"
        return f"StructuredDataset(uri={self.uri!r})"


def _read_uri(uri: str, file_format: str, store: BlobStore | None) -> Any:
    """The table at ``uri``: a local Parquet/CSV file or Parquet folder, or (on AWS) an ``s3://`` object."""
    if uri.startswith("s3://"):
        adopt = getattr(store, "adopt_remote", None)
        if store is None or adopt is None:
            from stratoflow.values._codec import RemoteFileError  # noqa: PLC0415 - the codec imports us

            raise RemoteFileError(f"{uri} is a remote StructuredDataset; this backend reads local paths only")
        pinned, _digest, _size = adopt(uri)
        return _frames.read_table(store.get_bytes(pinned))
    path = Path(uri)
    if not path.exists():
        raise FileNotFoundError(f"StructuredDataset uri {uri} does not exist")
    _, pq = _frames._pyarrow()
    if file_format == CSV or (path.is_file() and path.suffix == ".csv"):
        import pyarrow.csv as pacsv  # noqa: PLC0415 - optional

        return pacsv.read_csv(str(path))
    return pq.read_table(str(path))


def to_json(value: object, t: ir.TypeRef, store: BlobStore | None, sha256_hex: Callable[[bytes], str]) -> Any:
    """A StructuredDataset's JSON (its Parquet blob in ``store``); ``None`` when only checking."""
    if not isinstance(value, StructuredDataset):
        raise _frames.Mismatch
    if value.dataframe is None and value.uri is None:
        raise _frames.Mismatch
    if value.dataframe is not None and _frames.kind_of(type(value.dataframe)) is None:
        raise _frames.Mismatch
    if store is None:
        return None
    columns = _frames.column_names(t)
    if value._store is not None and value._sha256 is not None and value._columns == columns:
        # Passed through unchanged: the same blob (and hash), not a copy.
        return {"uri": value.uri, "sha256": value._sha256, "size": value._size, "format": PARQUET}
    if value.dataframe is not None:
        table = value.dataframe
    elif value._store is not None:
        table = value._table(keep_index=True)
    else:
        table = _read_uri(value.uri or "", value.file_format, store)
    data = _frames.parquet_bytes(table, "arrow_table", columns)
    digest = sha256_hex(data)
    uri = store.put_bytes(data, digest=digest)
    return {"uri": uri, "sha256": digest, "size": len(data), "format": PARQUET}


def from_json(value: dict[str, Any], t: ir.TypeRef, store: BlobStore | None) -> Any:
    """A StructuredDataset over the verified blob (read when the task calls ``all()``)."""
    if store is None:
        raise ValueError(f"a {t.render()} value needs its blob store to be read")
    return StructuredDataset._stored(value, store, _frames.column_names(t))


def coerce(value: object) -> object:
    """An input given as a path (CLI, ``--inputs``) or a bare frame: wrapped in a StructuredDataset."""
    if isinstance(value, str):
        return StructuredDataset(uri=value)
    if _frames.kind_of(type(value)) is not None:
        return StructuredDataset(dataframe=value)
    return value
