"""Whether a stored literal is what it claims: its hash matches its value and every blob it names is intact.

The cache uses this before serving an entry: a forged value, a hash that does not match, or a
missing or corrupted blob (the spilled value, a file, a directory's manifest or one of its
files) makes the entry a miss, never a served value.
"""

from __future__ import annotations

import json
from typing import Any

from stratoflow import ir
from stratoflow.errors import IntegrityError
from stratoflow.values._blobs import BlobStore
from stratoflow.values._codec import (
    LiteralRef,
    _dataclass_fields,
    _has_files,
    _identity,
    canonical_json,
    sha256_hex,
)
from stratoflow.values._structured import KINDS as TABLE_KINDS

__all__ = ["literal_problem"]


def literal_problem(literal: LiteralRef, t: ir.TypeRef, store: BlobStore) -> str | None:
    """What is wrong with ``literal`` as a stored value of type ``t``, or ``None`` when it is sound."""
    try:
        if literal.uri is None:
            value: Any = literal.value
        else:
            value = json.loads(store.get_bytes(literal.uri))  # verified against its address
        digest = sha256_hex(canonical_json(_identity(value, t) if _has_files(t) else value))
        if digest != literal.hash:
            return f"its hash {literal.hash[:16]}... does not match its value ({digest[:16]}...)"
        return _files_problem(value, t, store)
    except IntegrityError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a missing blob (OSError, botocore's 404) or a wrong shape
        return f"unreadable ({type(exc).__name__}: {exc})"


def _files_problem(value: Any, t: ir.TypeRef, store: BlobStore) -> str | None:  # noqa: C901 - a branch per type
    if value is None:
        return None
    kind = t.kind
    if kind == "file":
        from stratoflow.ir import _storage  # noqa: PLC0415 - not protocol: a local run loads no wire models

        if _storage.blob_digest(value["uri"]) not in (None, value["sha256"]) or not store.exists(
            value["uri"]
        ):
            return f"file blob {value['uri']} is missing or corrupted"
        return None
    if kind in TABLE_KINDS:
        if not store.exists(value["uri"]):
            return f"table blob {value['uri']} is missing or corrupted"
        return None
    if kind == "directory":
        manifest = json.loads(store.get_bytes(value["uri"]))
        for _rel, uri, _size in manifest["files"]:
            if not store.exists(uri):
                return f"directory file blob {uri} is missing or corrupted"
        return None
    if kind == "optional":
        return _files_problem(value, t.args[0], store)
    if kind == "list":
        return next((p for item in value if (p := _files_problem(item, t.args[0], store))), None)
    if kind == "dict":
        return next((p for item in value.values() if (p := _files_problem(item, t.args[1], store))), None)
    if kind == "dataclass":
        for name, field_type in _dataclass_fields(t.ref or "")[1]:
            if problem := _files_problem(value[name], field_type, store):
                return problem
    return None
