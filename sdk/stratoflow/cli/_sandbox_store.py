"""The sandbox's cache and blobs, kept in a folder between ``stratoflow run --sandbox`` runs.

The emulated bucket and table live in memory and go when the process ends. So that a second
CLI run hits the cache as a second local run would, the cache table's items and the blobs
they point at are restored into a new sandbox from ``$STRATOFLOW_HOME/sandbox/`` and saved
back when it closes: ``cache.json`` (the table's items, as DynamoDB JSON) and ``blobs/``
(the bucket's blob prefix, one file per key). Blobs are content-addressed, so saving only
adds missing files; the items are rewritten whole (atomically), so an entry the runner
dropped as unusable stays dropped. Run data (``runs/``) is not kept: a run's outputs are
recorded in the run history instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from stratoflow.ir import protocol

if TYPE_CHECKING:
    from stratoflow.testing._sandbox import Sandbox

__all__ = ["SandboxStore"]


class SandboxStore:
    """One folder holding a sandbox's cache items and blobs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.items = root / "cache.json"

    def entries(self) -> list[dict[str, Any]]:
        """The saved cache items (DynamoDB JSON); none when nothing was saved."""
        try:
            loaded = json.loads(self.items.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [item for item in loaded if isinstance(item, dict)] if isinstance(loaded, list) else []

    def restore(self, sandbox: Sandbox) -> None:
        """Put the saved blobs and cache items into ``sandbox``'s bucket and table."""
        s3 = sandbox.aws.client("s3")
        if self.blobs.is_dir():
            for path in self.blobs.rglob("*"):
                if path.is_file() and not path.name.startswith("."):
                    key = protocol.BLOBS_PREFIX + path.relative_to(self.blobs).as_posix()
                    s3.put_object(Bucket=sandbox.bucket, Key=key, Body=path.read_bytes())
        dynamodb = sandbox.aws.client("dynamodb")
        for item in self.entries():
            dynamodb.put_item(TableName=sandbox.table, Item=item)

    def save(self, sandbox: Sandbox) -> None:
        """Write ``sandbox``'s blobs (those not saved yet) and all its cache items here."""
        s3 = sandbox.aws.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=sandbox.bucket, Prefix=protocol.BLOBS_PREFIX
        ):
            for entry in page.get("Contents", []):
                relative = PurePosixPath(entry["Key"].removeprefix(protocol.BLOBS_PREFIX))
                if ".." in relative.parts or relative.is_absolute():
                    continue  # never a key the runner writes; never a path outside the folder
                path = self.blobs.joinpath(*relative.parts)
                if not path.exists():
                    body = s3.get_object(Bucket=sandbox.bucket, Key=entry["Key"])["Body"].read()
                    _write_atomically(path, body)
        items: list[dict[str, Any]] = []
        for page in sandbox.aws.client("dynamodb").get_paginator("scan").paginate(TableName=sandbox.table):
            items.extend(page.get("Items", []))
        _write_atomically(self.items, json.dumps(items, sort_keys=True).encode())

    def clear(self, task: str | None = None) -> int:
        """Remove the saved cache (only ``task``'s entries when given); returns how many entries."""
        items = self.entries()
        if task is None:
            shutil.rmtree(self.root, ignore_errors=True)
            return len(items)
        kept = [item for item in items if not _is_task(item.get("task", {}).get("S", ""), task)]
        if len(kept) != len(items):
            _write_atomically(self.items, json.dumps(kept, sort_keys=True).encode())
        return len(items) - len(kept)


def _is_task(ref: str, task: str) -> bool:
    # By ref ('module:qualname') or by name, as the local cache's clear.
    return ref == task or ref.endswith(f":{task}")


def _write_atomically(path: Path, data: bytes) -> None:
    # Another sandbox run may read the folder at the same time: it sees the old or the new file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)
