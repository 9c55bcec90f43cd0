"""flytekit's ``Checkpoint`` (``current_context().checkpoint``) and the run storage it keeps them in.

A checkpoint is what one attempt saved, stored under the run (:func:`protocol.checkpoint_key`:
a directory of the local home, or the data bucket on AWS) as a tar of the saved files; the next
attempt of the same node (a retry, the on-demand attempt after a Spot reclaim) reads the latest
one an earlier attempt wrote.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Protocol

# Not ``protocol``: it loads pydantic, which ``import stratoflow`` must not (test_import_light).
from stratoflow.ir import _storage

__all__ = ["Checkpoint", "RunStorage"]


class RunStorage(Protocol):
    """Where a run's checkpoints live: keys of the data bucket's layout (``protocol``)."""

    def get(self, key: str) -> bytes | None:
        """The object at ``key``, or ``None``."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key``."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``."""
        ...

    def uri(self, key: str) -> str:
        """``key`` as a path or ``s3://`` URI (for ``raw_output_prefix``)."""
        ...


class Checkpoint:
    """flytekit's ``Checkpoint``: what this attempt saves, the node's next attempt restores.

    ``read()``/``write(b)`` keep one blob; ``save(path)``/``restore(path)`` a file or a folder. Every
    ``save`` stores this attempt's whole checkpoint at once, so an attempt stopped mid-way (a Spot
    reclaim) leaves its last complete save.
    """

    _ONE_FILE = "_dst_cache"  # flytekit's name for a checkpoint written from bytes

    def __init__(
        self,
        storage: RunStorage,
        workflow: str,
        run_id: str,
        node: str,
        attempt: int,
        *,
        scratch: Callable[[], str],
    ) -> None:
        self._store = storage
        self._scratch = scratch
        self._key = _storage.checkpoint_key(workflow, run_id, node, attempt)
        self._prefix = _storage.checkpoints_prefix(workflow, run_id, node)
        self._attempt = attempt
        self._files: dict[str, bytes] = {}
        self._restored: Path | None = None

    @cached_property
    def _previous(self) -> str | None:
        earlier = [
            (found, key)
            for key in self._store.keys(self._prefix)
            if (found := _storage.checkpoint_attempt(key)) is not None and found < self._attempt
        ]
        return max(earlier)[1] if earlier else None

    def prev_exists(self) -> bool:
        """Whether an earlier attempt of this node saved a checkpoint."""
        return self._previous is not None

    def restore(self, path: Path | str | None = None) -> Path | None:
        """Unpack the previous checkpoint into the folder ``path`` (default: a scratch folder); its
        path, or ``None`` when there is none."""
        if self._previous is None:
            return None
        if self._restored is not None:
            return self._restored
        data = self._store.get(self._previous)
        if data is None:
            return None
        if path is None:
            (Path(self._scratch()) / "prev_cp").mkdir(exist_ok=True)
        target = Path(path) if path is not None else Path(self._scratch()) / "prev_cp"
        if not target.is_dir():
            raise ValueError(f"checkpoints can be restored to a folder only, not {target}")
        import tarfile  # noqa: PLC0415 - with lzma and bz2, only for tasks that use checkpoints

        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target, filter="data")
        self._restored = target
        return target

    def save(self, cp: Path | str | io.IOBase) -> None:
        """Add a file, a folder's files, or a reader's bytes to this attempt's checkpoint and store it."""
        if isinstance(cp, io.IOBase):
            self._files[self._ONE_FILE] = cp.read()
        else:
            source = Path(cp)
            if source.is_dir():
                for file in sorted(p for p in source.rglob("*") if p.is_file()):
                    self._files[file.relative_to(source).as_posix()] = file.read_bytes()
            else:
                self._files[source.name] = source.read_bytes()
        self._store.put(self._key, _tar(self._files))

    def read(self) -> bytes | None:
        """The previous checkpoint's one file (what ``write`` stored), or ``None``."""
        folder = self.restore()
        if folder is None:
            return None
        files = [p for p in folder.rglob("*") if p.is_file()]
        if not files:
            return None
        if len(files) > 1:
            raise ValueError(f"expected exactly one checkpoint file, found {len(files)} in {folder}")
        return files[0].read_bytes()

    def write(self, b: bytes) -> None:
        """Store ``b`` as this attempt's checkpoint."""
        self.save(io.BytesIO(b))


def _tar(files: dict[str, bytes]) -> bytes:
    import tarfile  # noqa: PLC0415 - with lzma and bz2, only for tasks that use checkpoints

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
