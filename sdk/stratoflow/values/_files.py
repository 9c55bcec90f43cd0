"""``File`` and ``Directory``: Flyte's FlyteFile / FlyteDirectory, hashed by content."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from stratoflow.errors import ConfigError
from stratoflow.values import _model_fields

if TYPE_CHECKING:
    from stratoflow.values._blobs import BlobStore

__all__ = ["Directory", "File", "hash_directory", "hash_file", "materialise_files"]

_CHUNK = 1 << 20


@functools.cache
def _download_root() -> Path:
    """One temp folder per process for stores without local copies (S3), removed at exit."""
    import shutil  # noqa: PLC0415 - loaded when a file is copied, not by every import
    import tempfile  # noqa: PLC0415 - loaded when a file is copied, not by every import

    root = Path(tempfile.mkdtemp(prefix="stratoflow-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _fetch(store: BlobStore, uri: str, name: str, *, tree: bool) -> str:
    import tempfile  # noqa: PLC0415 - loaded when a file is copied, not by every import

    local_copy = getattr(store, "local_copy", None)
    if local_copy is not None:
        return str(local_copy(uri, name, tree=tree))
    dest = Path(tempfile.mkdtemp(dir=_download_root())) / name
    (store.download_tree if tree else store.download)(uri, dest)
    return str(dest)


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """sha256 hex digest and size of a file's contents, streamed."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def hash_directory(path: str | os.PathLike[str]) -> tuple[str, list[tuple[str, str, int]]]:
    """Tree hash of a directory (relative paths and file contents) and its manifest."""
    root = Path(path)
    manifest = []
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        file_hash, size = hash_file(file)
        manifest.append((file.relative_to(root).as_posix(), file_hash, size))
    digest = hashlib.sha256()
    for rel, file_hash, _ in manifest:
        digest.update(f"{rel}\0{file_hash}\n".encode())
    return digest.hexdigest(), manifest


def _format_name(spec: object) -> str:
    """``File["csv"]``, ``File[TypeVar("csv")]`` or ``File[Annotated[str, FileExt("csv")]]`` -> "csv"."""
    if isinstance(spec, str):
        return spec
    for meta in getattr(spec, "__metadata__", ()):
        extension = getattr(meta, "extension", None)
        if isinstance(extension, str):
            return extension
    return str(getattr(spec, "__name__", spec))


_FORMATTED: dict[tuple[type, str], type] = {}


def _formatted(cls: type, name: str) -> type:
    # One class per (kind, format), so File["csv"] is File["csv"]; no __dict__, like its base.
    made = _FORMATTED.get((cls, name))
    if made is None:
        namespace = {"__slots__": (), "extension": name, "__module__": cls.__module__}
        made = _FORMATTED.setdefault((cls, name), type(f"{cls.__name__}[{name}]", (cls,), namespace))
    return made


class File:
    """A file passed between tasks, by local path or by URI (``s3://bucket/key``).

    A task that returns a ``File`` of a local path has the file stored in the blob store;
    the next task gets a ``File`` it can ``open()`` or ``download()``. Its cache identity is
    the sha256 of its contents, so a changed file behind the same path is a cache miss.

    Example:
        >>> f = File("data/in.csv")
        >>> with f.open() as handle:  # doctest: +SKIP
        ...     header = handle.readline()
    """

    __slots__ = ("_local", "_name", "_sha256", "_size", "_store", "uri")
    # Flyte's format-typed files (``FlyteFile[TypeVar("csv")]``): a subclass naming the format,
    # carried and hashed like any File (the format is a label; contents are not checked).
    extension: str = ""

    def __class_getitem__(cls, spec: object) -> type[File]:
        """``File["csv"]``: a File subclass labelled with a format, as Flyte's ``FlyteFile[...]``."""
        made: type[File] = _formatted(cls, _format_name(spec))
        return made

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.fspath(path)
        self.uri = text
        self._name = text.rstrip("/").rpartition("/")[2]
        self._local: str | None = None if "://" in text else text
        self._sha256: str | None = None
        self._size: int | None = None
        self._store: BlobStore | None = None

    @classmethod
    def _stored(cls, uri: str, *, name: str, sha256: str, size: int, store: BlobStore) -> File:
        obj = cls(uri)
        obj._name, obj._sha256, obj._size, obj._store = name, sha256, size, store
        obj._local = None
        return obj

    @property
    def name(self) -> str:
        """The file's base name."""
        return self._name

    @property
    def path(self) -> str:
        """A local path to the contents, downloading them first if needed."""
        return self.download()

    def download(self) -> str:
        """Return a local path holding the file's contents."""
        if self._local is None:
            if self._store is None:
                raise ConfigError(f"cannot download {self.uri!r} outside a stratoflow run (no blob store)")
            self._local = _fetch(self._store, self.uri, self._name or "file", tree=False)
        return self._local

    def open(self, mode: str = "r", **kwargs: Any) -> IO[Any]:
        """Open the file (read-only modes only, like Flyte)."""
        return open(self.download(), mode, **kwargs)

    def content_hash(self) -> tuple[str, int]:
        """sha256 of the contents and the size in bytes (computed once)."""
        if self._sha256 is None or self._size is None:
            self._sha256, self._size = hash_file(self.download())
        return self._sha256, self._size

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: object) -> object:
        """Lets a pydantic model have a File field (``_model_fields``)."""
        return _model_fields.field_schema(cls, from_path=True)

    def __fspath__(self) -> str:
        return self.download()

    def __repr__(self) -> str:
        return f"File({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, File):
            return NotImplemented
        return self.content_hash() == other.content_hash()

    def __hash__(self) -> int:
        return hash(self.content_hash())


class Directory:
    """A directory passed between tasks (Flyte's FlyteDirectory), hashed by its tree of contents."""

    __slots__ = ("_local", "_name", "_sha256", "_store", "uri")
    extension: str = ""  # Flyte's format-typed directories (``FlyteDirectory[TypeVar("tensorboard")]``)

    def __class_getitem__(cls, spec: object) -> type[Directory]:
        """``Directory["tensorboard"]``: a Directory subclass labelled with a format, as in Flyte."""
        made: type[Directory] = _formatted(cls, _format_name(spec))
        return made

    def __init__(self, path: str | os.PathLike[str]) -> None:
        text = os.fspath(path)
        self.uri = text
        self._name = text.rstrip("/").rpartition("/")[2]
        self._local: str | None = None if "://" in text else text
        self._sha256: str | None = None
        self._store: BlobStore | None = None

    @classmethod
    def _stored(cls, uri: str, *, name: str, sha256: str, store: BlobStore) -> Directory:
        obj = cls(uri)
        obj._name, obj._sha256, obj._store, obj._local = name, sha256, store, None
        return obj

    @property
    def name(self) -> str:
        """The directory's base name."""
        return self._name

    @property
    def path(self) -> str:
        """A local path to the directory, downloading it first if needed."""
        return self.download()

    def download(self) -> str:
        """Return a local directory holding the contents."""
        if self._local is None:
            if self._store is None:
                raise ConfigError(f"cannot download {self.uri!r} outside a stratoflow run (no blob store)")
            self._local = _fetch(self._store, self.uri, self._name or "dir", tree=True)
        return self._local

    def content_hash(self) -> str:
        """Tree hash of relative paths and file contents."""
        if self._sha256 is None:
            self._sha256, _ = hash_directory(self.download())
        return self._sha256

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: object) -> object:
        """Lets a pydantic model have a Directory field (``_model_fields``)."""
        return _model_fields.field_schema(cls, from_path=True)

    def __fspath__(self) -> str:
        return self.download()

    def __repr__(self) -> str:
        return f"Directory({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Directory):
            return NotImplemented
        return self.content_hash() == other.content_hash()

    def __hash__(self) -> int:
        return hash(self.content_hash())


def copy_tree(src: Path, dest: Path) -> None:
    """Copy a directory tree (helper for blob stores)."""
    import shutil  # noqa: PLC0415 - loaded when a file is copied, not by every import

    shutil.copytree(src, dest, dirs_exist_ok=True)


def materialise_files(value: Any, root: Path) -> None:
    """Copy every stored ``File``/``Directory`` in ``value`` to ``root/<its name>``; they then point there.

    A run's outputs keep their names (``outputs/<run>/report.json``, not a blob digest);
    two outputs with the same name go to ``root/2/<name>``, ``root/3/<name>``, ...
    """
    used: set[str] = set()

    def place(name: str) -> Path:
        rel, n = name, 1
        while rel in used:
            n += 1
            rel = f"{n}/{name}"
        used.add(rel)
        return root / rel

    def walk(item: Any) -> None:
        if isinstance(item, File | Directory):
            if item._store is not None:
                is_file = isinstance(item, File)
                dest = place(item.name or ("file" if is_file else "dir"))
                (item._store.download if is_file else item._store.download_tree)(item.uri, dest)
                item.uri = item._local = str(dest)
                item._store = None
        else:
            for element in _children(item):
                walk(element)

    walk(value)


def _children(item: Any) -> list[Any]:
    """The values inside a decoded container (list, tuple, dict, dataclass, pydantic model)."""
    if isinstance(item, list | tuple):
        return list(item)
    if isinstance(item, dict):
        return list(item.values())
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return [getattr(item, field.name) for field in dataclasses.fields(item)]
    if hasattr(type(item), "model_fields"):  # a pydantic model
        return [getattr(item, name) for name in type(item).model_fields]
    return []
