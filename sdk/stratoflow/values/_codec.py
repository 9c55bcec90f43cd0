"""The one value codec: Python value <-> literal reference, with a content hash on every literal.

A literal is inline JSON when small and a content-addressed blob otherwise. Its hash is
the sha256 of the canonical JSON of the value's *identity*: the value itself, except that
files and directories count by their contents, never by their path or URI. Pickle is
never used.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import os
import shutil
import typing
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from stratoflow import ir
from stratoflow.values import _frames, _moretypes, _structured
from stratoflow.values._blobs import BlobStore
from stratoflow.values._files import Directory, File, hash_directory, hash_file
from stratoflow.values._typeref import model_blob_annotations, resolve_class, typeref_of

if TYPE_CHECKING:  # only an annotation here: pydantic is not imported for it
    from pydantic import JsonValue

__all__ = [
    "INLINE_LIMIT_BYTES",
    "LiteralRef",
    "RemoteFileError",
    "ValueTypeError",
    "canonical_json",
    "check_value",
    "coerce_input",
    "decode",
    "encode",
    "key_from_text",
    "key_text",
    "sha256_hex",
]

# Values whose canonical JSON is larger than this go to the blob store; state payloads
# and cache items then carry only {uri, hash, size}.
INLINE_LIMIT_BYTES = 16 * 1024


class ValueTypeError(TypeError):
    """A value that does not match its declared type; ``path`` locates it inside the value."""

    def __init__(
        self, expected: ir.TypeRef, got: object, path: str = "", *, reason: str | None = None
    ) -> None:
        self.expected, self.got, self.path = expected, got, path
        where = f" at {path}" if path else ""
        if reason is not None:  # the value has the right type but cannot be used (a missing file)
            super().__init__(f"{expected.render()}{where}: {reason}")
            return
        shown = repr(got)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        super().__init__(f"expected {expected.render()}{where}, got {type(got).__name__} {shown}")


# One encoder for every call: json.dumps builds a new JSONEncoder per call when given options.
_CANONICAL: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: JsonValue) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, UTF-8)."""
    if type(value) is int:  # the commonest literal: the encoder's set-up costs more than the number
        return str(value).encode()  # what the encoder writes (int.__repr__), its digit limit too
    return _CANONICAL.encode(value).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# A NamedTuple, not a frozen dataclass: two are made for every map item (its input and its
# output), and a tuple is cheaper to make and to define than a dataclass.
class LiteralRef(NamedTuple):
    """An encoded value: inline JSON (``value``) or a blob (``uri``, ``size``), plus its hash."""

    hash: str
    value: JsonValue = None
    uri: str | None = None
    size: int = 0

    def to_json(self) -> dict[str, JsonValue]:
        if self.uri is None:
            return {"h": self.hash, "v": self.value}
        return {"h": self.hash, "uri": self.uri, "size": self.size}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiteralRef:
        if "uri" in data:
            return cls(hash=data["h"], uri=data["uri"], size=int(data["size"]))
        return cls(hash=data["h"], value=data["v"])


def _has_files(t: ir.TypeRef) -> bool:
    # A scalar first, without the cache's look-up (it hashes the TypeRef): most values are scalars.
    return t.kind not in _SCALARS and _holds_files(t)


@cache
def _holds_files(t: ir.TypeRef) -> bool:
    if t.kind in ("file", "directory", "dataclass") or t.kind in _structured.KINDS:
        return True  # dataclass fields may hold files; the identity walk checks
    if t.kind == "pydantic":
        return bool(_model_blob_fields(t.ref or "")[1])
    return any(_holds_files(a) for a in t.args)


@cache
def _model_blob_fields(ref: str) -> tuple[Any, tuple[tuple[str, ir.TypeRef], ...]]:
    """A pydantic model's class, and its fields holding files, directories or tables with their
    TypeRefs: the codec stores those by contents (as a task's own File output); pydantic dumps the rest."""
    cls = resolve_class(ref)
    return cls, tuple((name, typeref_of(annotation)) for name, annotation in model_blob_annotations(cls))


@cache
def _dataclass_fields(ref: str) -> tuple[type, tuple[tuple[str, ir.TypeRef], ...]]:
    cls = resolve_class(ref)
    hints = typing.get_type_hints(cls)
    return cls, tuple((f.name, typeref_of(hints[f.name])) for f in dataclasses.fields(cls))


def encode(value: object, t: ir.TypeRef, store: BlobStore) -> LiteralRef:
    """Encode a Python value of type ``t``; files are uploaded to ``store``."""
    if t.kind == "int" and type(value) is int:  # the commonest literal (a map's items), short-cut
        data = str(value).encode()  # canonical_json's bytes, and the identity's (no files)
        if len(data) <= INLINE_LIMIT_BYTES:
            return LiteralRef(hash=hashlib.sha256(data).hexdigest(), value=value)
    json_value = _to_json(value, t, store, "")
    data = canonical_json(json_value)
    identity = canonical_json(_identity(json_value, t)) if _has_files(t) else data
    digest = sha256_hex(identity)
    if len(data) > INLINE_LIMIT_BYTES:
        uri = store.put_bytes(data, digest=sha256_hex(data))
        return LiteralRef(hash=digest, uri=uri, size=len(data))
    return LiteralRef(hash=digest, value=json_value)


def decode(literal: LiteralRef, t: ir.TypeRef, store: BlobStore) -> Any:
    """Decode a literal back to a Python value of type ``t``."""
    json_value = literal.value if literal.uri is None else json.loads(store.get_bytes(literal.uri))
    return _from_json(json_value, t, store)


def check_value(value: object, t: ir.TypeRef) -> None:
    """Raise ValueTypeError if ``value`` is not a valid ``t`` (files are checked, not stored)."""
    _to_json(value, t, None, "")


def coerce_input(value: object, t: ir.TypeRef) -> Any:
    """Turn a JSON-ish value (CLI, ``--inputs``) or a Python value into a Python value of ``t``."""
    if t.kind == "file" and isinstance(value, str | os.PathLike):
        return File(value)
    if t.kind == "directory" and isinstance(value, str | os.PathLike):
        return Directory(value)
    if t.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if t.kind == "optional":
        return None if value is None else coerce_input(value, t.args[0])
    if t.kind == "list" and isinstance(value, list):
        return [coerce_input(item, t.args[0]) for item in value]
    if t.kind == "dict" and isinstance(value, dict):
        return {_coerce_key(k, t.args[0]): coerce_input(v, t.args[1]) for k, v in value.items()}
    if t.kind == "bytes" and isinstance(value, str):
        return value.encode()
    if t.kind == "structured_dataset":
        value = _structured.coerce(value)
    elif t.kind in _moretypes.KINDS or t.kind in _frames.KINDS:
        value = _coerce_more(value, t)
    if t.kind in ("dataclass", "pydantic") and isinstance(value, dict):
        try:
            return _from_json(value, t, None)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueTypeError(t, value) from exc
    check_value(value, t)
    return value


def _coerce_more(value: object, t: ir.TypeRef) -> object:
    """An input of the kinds with their own text forms (ISO dates, ...; a frame's file path)."""
    if t.kind in _moretypes.KINDS:
        return _moretypes.coerce(value, t)
    try:
        return _frames.coerce(value, t)
    except FileNotFoundError as exc:
        raise ValueTypeError(t, value) from exc


def key_text(key: object, t: ir.TypeRef) -> str:
    """A dict key of type ``t`` as the text of its JSON object key: ``1`` -> "1", ``True`` -> "true".

    A str (or str-valued Enum) key is its own text; any other key is its JSON, so reading it
    back (:func:`key_from_text`) gives the same key and equal dicts have one canonical JSON.
    """
    json_value = _to_json(key, t, None, "")
    return json_value if isinstance(json_value, str) else json.dumps(json_value)


def key_from_text(text: str, t: ir.TypeRef) -> Any:
    """The dict key of type ``t`` whose JSON object key is ``text`` (raises ValueError if none)."""
    if t.kind == "str":
        return text
    if t.kind == "enum":
        cls = resolve_class(t.ref or "")
        str_valued = isinstance(next(iter(cls)).value, str)
        return cls(text if str_valued else json.loads(text))
    return _from_json(json.loads(text), t, None)


def _coerce_key(key: object, t: ir.TypeRef) -> object:
    """A key from JSON input (always text) as a key of type ``t``; left as given if it is not one."""
    if t.kind == "enum" and not isinstance(key, str):
        return _moretypes.coerce(key, t)
    if not isinstance(key, str) or t.kind == "str":
        return key
    try:
        return key_from_text(key.lower() if t.kind == "bool" else key, t)
    except (ValueError, TypeError):
        return _moretypes.coerce(key, t) if t.kind == "enum" else key


def _json_value(value: object, t: ir.TypeRef, path: str) -> JsonValue:
    """``value`` if it is JSON (an untyped dict's values: None, bool, int, finite float, str, and
    lists, tuples and str-keyed dicts of them), tuples as lists; else ValueTypeError naming where."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, t, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v, t, f"{path}[{k!r}]") for k, v in value.items()}
    raise ValueTypeError(t, value, path)


def _dict_to_json(
    value: dict[Any, Any], t: ir.TypeRef, store: BlobStore | None, path: str
) -> dict[str, JsonValue]:
    key_type, value_type = t.args
    encoded: dict[str, JsonValue] = {}
    for k, v in value.items():
        try:
            text = key_text(k, key_type)
        except ValueTypeError as exc:
            raise ValueTypeError(t, value, path) from exc
        encoded[text] = _to_json(v, value_type, store, f"{path}[{k!r}]")
    return encoded


_SCALARS: dict[str, Any] = {
    "int": lambda v: type(v) is int,
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "none": lambda v: v is None,
}


def _to_json(value: object, t: ir.TypeRef, store: BlobStore | None, path: str) -> JsonValue:  # noqa: C901 - a branch per type
    kind = t.kind
    if kind in _SCALARS:
        if _SCALARS[kind](value):
            return float(value) if kind == "float" else value  # type: ignore[arg-type,return-value]
    elif kind == "bytes" and isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    elif kind == "json":
        return _json_value(value, t, path)
    elif kind in _moretypes.KINDS:
        try:
            return _moretypes.to_json(value, t)  # type: ignore[no-any-return]
        except _moretypes.Mismatch:
            pass
    elif kind in _structured.KINDS:
        convert = _structured.to_json if kind == "structured_dataset" else _frames.to_json
        try:
            return convert(value, t, store, sha256_hex)  # type: ignore[no-any-return]
        except _frames.Mismatch:
            pass
    elif kind == "optional":
        return None if value is None else _to_json(value, t.args[0], store, path)
    elif kind == "list" and isinstance(value, list | tuple):
        return [_to_json(item, t.args[0], store, f"{path}[{i}]") for i, item in enumerate(value)]
    elif kind == "dict" and isinstance(value, dict):
        return _dict_to_json(value, t, store, path)
    elif kind == "dataclass" and isinstance(value, _dataclass_fields(t.ref or "")[0]):
        fields = _dataclass_fields(t.ref or "")[1]
        return {name: _to_json(getattr(value, name), ft, store, f"{path}.{name}") for name, ft in fields}
    elif kind == "pydantic" and isinstance(value, resolve_class(t.ref or "")):
        return _model_to_json(value, t, store, path)
    elif kind == "file" and isinstance(value, File | str | os.PathLike) and not isinstance(value, Directory):
        return _file_to_json(value if isinstance(value, File) else File(value), store, t, path)
    elif (
        kind == "directory"
        and isinstance(value, Directory | str | os.PathLike)
        and not isinstance(value, File)
    ):
        return _dir_to_json(value if isinstance(value, Directory) else Directory(value), store, t, path)
    raise ValueTypeError(t, value, path)


def _file_to_json(file: File, store: BlobStore | None, t: ir.TypeRef, path: str) -> JsonValue:
    if file._store is not None and file._sha256 is not None and file._size is not None:
        return {"uri": file.uri, "name": file.name, "sha256": file._sha256, "size": file._size}
    local = file._local
    if local is None:
        return _remote_file_to_json(file, store, t, path)
    if not Path(local).is_file():
        why = "is a directory, not a file" if Path(local).is_dir() else "does not exist"
        raise ValueTypeError(t, file, path, reason=f"{file.uri!r} {why}") from FileNotFoundError(file.uri)
    if store is None:
        return None
    digest, size = hash_file(local)
    uri = store.put_file(Path(local), digest=digest)
    return {"uri": uri, "name": file.name, "sha256": digest, "size": size}


def _remote_file_to_json(file: File, store: BlobStore | None, t: ir.TypeRef, path: str) -> JsonValue:
    """A File given by URI (``s3://...``, ``https://...``): pinned into the blob store, identified by
    its contents (a URL's are downloaded once, when the run starts, so its tasks and its cache key
    see the same bytes)."""
    scheme = file.uri.partition("://")[0].lower()
    if scheme in ("http", "https"):
        return None if store is None else _url_file_to_json(file, store, t, path)
    if scheme != "s3":
        reason = f"unsupported URI scheme '{scheme}' in {file.uri!r} (a local path, s3:// or http(s):// URL)"
        raise ValueTypeError(t, file, path, reason=reason)
    if store is None:
        return None  # validation only: whether it exists is for the store to say
    adopt = getattr(store, "adopt_remote", None)
    if adopt is None:
        raise RemoteFileError(f"{file.uri} is a remote file; this backend reads local paths only")
    uri, digest, size = adopt(file.uri)
    return {"uri": uri, "name": file.name, "sha256": digest, "size": size}


def _url_file_to_json(file: File, store: BlobStore, t: ir.TypeRef, path: str) -> JsonValue:
    """A File at an http(s) URL, as Flyte's ``FlyteFile("https://...")``: downloaded to a temporary
    file, stored by its contents, named after the URL's last path segment."""
    import tempfile  # noqa: PLC0415 - only for a URL input
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    name = file.uri.partition("?")[0].partition("#")[0].rstrip("/").rpartition("/")[2] or "file"
    with tempfile.TemporaryDirectory(prefix="stratoflow-url-") as tmp:
        local = Path(tmp) / name
        try:
            with urllib.request.urlopen(file.uri, timeout=60) as response, local.open("wb") as out:  # noqa: S310 - http(s) only, checked by the caller
                shutil.copyfileobj(response, out, _URL_CHUNK)
        except urllib.error.HTTPError as exc:  # before URLError: it is one
            reason = f"HTTP {exc.code} {exc.reason}"
            raise ValueTypeError(t, file, path, reason=f"cannot download {file.uri!r}: {reason}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise ValueTypeError(t, file, path, reason=f"cannot download {file.uri!r}: {why}") from exc
        digest, size = hash_file(local)
        uri = store.put_file(local, digest=digest)
    return {"uri": uri, "name": name, "sha256": digest, "size": size}


_URL_CHUNK = 1 << 20


class RemoteFileError(ValueError):
    """A File URI the current blob store cannot read (e.g. ``s3://`` in a local run)."""


def _dir_to_json(directory: Directory, store: BlobStore | None, t: ir.TypeRef, path: str) -> JsonValue:
    if directory._store is not None and directory._sha256 is not None:
        return {"uri": directory.uri, "name": directory.name, "sha256": directory._sha256}
    local = directory._local
    if local is None:
        reason = f"{directory.uri!r} is a URI; a Directory input is a local path"
        raise ValueTypeError(t, directory, path, reason=reason)
    if not Path(local).is_dir():
        why = "is a file, not a directory" if Path(local).is_file() else "does not exist"
        raise ValueTypeError(t, directory, path, reason=f"{directory.uri!r} {why}") from FileNotFoundError(
            directory.uri
        )
    if store is None:
        return None
    tree_hash, manifest = hash_directory(local)
    files: list[JsonValue] = []
    for rel, digest, size in manifest:
        files.append([rel, store.put_file(Path(local) / rel, digest=digest), size])
    data = canonical_json({"files": files})
    uri = store.put_bytes(data, digest=sha256_hex(data))
    return {"uri": uri, "name": directory.name, "sha256": tree_hash}


def _model_to_json(value: Any, t: ir.TypeRef, store: BlobStore | None, path: str) -> JsonValue:
    _, blobs = _model_blob_fields(t.ref or "")
    dumped: dict[str, JsonValue] = value.model_dump(mode="json", exclude={name for name, _ in blobs} or None)
    for name, field_type in blobs:
        dumped[name] = _to_json(getattr(value, name), field_type, store, f"{path}.{name}")
    return dumped


def _identity(value: JsonValue, t: ir.TypeRef) -> JsonValue:
    """The value as the cache sees it: files, directories and frames by content hash only."""
    if value is None:
        return None
    if t.kind in ("file", "directory") or t.kind in _structured.KINDS:
        assert isinstance(value, dict)  # noqa: S101 - produced by _to_json
        return {"sha256": value["sha256"]}
    if t.kind == "optional":
        return _identity(value, t.args[0])
    if t.kind == "list" and isinstance(value, list):
        return [_identity(item, t.args[0]) for item in value]
    if t.kind == "dict" and isinstance(value, dict):
        return {k: _identity(v, t.args[1]) for k, v in value.items()}
    if t.kind == "dataclass" and isinstance(value, dict):
        _, fields = _dataclass_fields(t.ref or "")
        return {name: _identity(value[name], ft) for name, ft in fields}
    if t.kind == "pydantic" and isinstance(value, dict):
        _, blobs = _model_blob_fields(t.ref or "")
        return {**value, **{name: _identity(value[name], ft) for name, ft in blobs if name in value}}
    return value


def _from_json(value: Any, t: ir.TypeRef, store: BlobStore | None) -> Any:  # noqa: C901 - a branch per type
    kind = t.kind
    if value is None:
        return None
    if kind == "float":
        return float(value)
    if kind in _moretypes.KINDS:
        return _moretypes.from_json(value, t)
    if kind == "structured_dataset":
        return _structured.from_json(value, t, store)
    if kind in _frames.KINDS:
        return _frames.from_json(value, t, store)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "list":
        return [_from_json(item, t.args[0], store) for item in value]
    if kind == "dict":
        key_type, value_type = t.args
        return {key_from_text(k, key_type): _from_json(v, value_type, store) for k, v in value.items()}
    if kind == "optional":
        return _from_json(value, t.args[0], store)
    if kind == "dataclass":
        cls, fields = _dataclass_fields(t.ref or "")
        return cls(**{name: _from_json(value.get(name), ft, store) for name, ft in fields})
    if kind == "pydantic":
        cls, blobs = _model_blob_fields(t.ref or "")
        if blobs and store is not None:  # stored fields back to values; without a store, paths
            value = {
                **value,
                **{name: _from_json(value[name], ft, store) for name, ft in blobs if name in value},
            }
        return cls.model_validate(value)
    if kind == "file":
        if store is None:
            return File(value["uri"])
        return File._stored(
            value["uri"], name=value["name"], sha256=value["sha256"], size=value["size"], store=store
        )
    if kind == "directory":
        if store is None:
            return Directory(value["uri"])
        return Directory._stored(value["uri"], name=value["name"], sha256=value["sha256"], store=store)
    return value
