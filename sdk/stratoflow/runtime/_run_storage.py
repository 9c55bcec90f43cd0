"""A local run's checkpoints (``current_context().checkpoint``): files under the local home.

The keys are the data bucket's (``protocol.checkpoint_key``), so a local run keeps its
checkpoints at ``<home>/runs/<workflow>/<run>/checkpoints/<node>/<attempt>.tar`` as the bucket does.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["LocalRunStorage"]


class LocalRunStorage:
    """``define.RunStorage`` over a folder (the local home)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        import tempfile  # noqa: PLC0415 - loaded by a checkpoint's save, not by every run

        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: an attempt killed mid-write leaves the previous save whole.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(target)

    def keys(self, prefix: str) -> list[str]:
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return []
        return [f"{prefix}{p.name}" for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]

    def uri(self, key: str) -> str:
        return str(self._path(key))
