"""Blob stores: where values too large to travel inline live (a directory locally, S3 on AWS).

Blobs are content-addressed (``blobs/<sha256>``) and written atomically, so a reader never
sees half a blob. Every read checks the bytes against the address while streaming them
(:func:`verify_stream`): a changed or truncated blob raises :class:`IntegrityError` and is
never served. A write skips only a blob that is there *and* intact, and replaces any other.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

from stratoflow.errors import IntegrityError

__all__ = ["BlobStore", "LocalBlobStore", "verify_stream"]

_CHUNK = 1 << 20


def verify_stream(chunks: Iterable[bytes], uri: str, sink: Callable[[bytes], object] | None = None) -> bytes:
    """Hash ``chunks`` as they pass (to ``sink``, else collected and returned) and raise
    :class:`IntegrityError` unless their sha256 is the digest ``uri`` is named by.

    A URI that is not content-addressed (``protocol.blob_digest`` is ``None``) is passed through.
    """
    from stratoflow.ir import _storage  # noqa: PLC0415 - not protocol: a local run loads no wire models

    expected = _storage.blob_digest(uri)
    hasher = hashlib.sha256()
    kept: list[bytes] = []
    for chunk in chunks:
        hasher.update(chunk)
        if sink is None:
            kept.append(chunk)
        else:
            sink(chunk)
    if expected is not None and hasher.hexdigest() != expected:
        raise IntegrityError(
            f"blob {uri} is corrupted: its sha256 is {hasher.hexdigest()[:16]}..., "
            f"not the {expected[:16]}... it is named by",
            uri=uri,
        )
    return b"".join(kept)


class BlobStore(Protocol):
    """What the codec and the runner need from a place to keep bytes."""

    def put_bytes(self, data: bytes, *, digest: str) -> str:
        """Store ``data`` (whose sha256 is ``digest``) and return its URI."""
        ...

    def put_file(self, path: Path, *, digest: str) -> str:
        """Store a local file's contents and return its URI."""
        ...

    def get_bytes(self, uri: str) -> bytes:
        """Read a blob back."""
        ...

    def exists(self, uri: str) -> bool:
        """Whether a blob is (still) there and intact (its bytes hash to its address)."""
        ...

    def download(self, uri: str, dest: Path) -> None:
        """Copy a blob to a local file."""
        ...

    def download_tree(self, uri: str, dest: Path) -> None:
        """Materialise a stored directory (its manifest URI) under ``dest``."""
        ...


class LocalBlobStore:
    """Content-addressed blobs in a local directory (the local executor's store)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def _atomic_write(self, target: Path, write: Callable[[BinaryIO], object]) -> None:
        import tempfile  # noqa: PLC0415 - loaded when a blob is written, not by every import

        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes, *, digest: str) -> str:
        target = self._path(digest)
        if not self.exists(str(target)):
            self._atomic_write(target, lambda handle: handle.write(data))
        return str(target)

    def put_file(self, path: Path, *, digest: str) -> str:
        import shutil  # noqa: PLC0415 - loaded when a blob is written, not by every import

        target = self._path(digest)
        if not self.exists(str(target)):

            def copy(handle: BinaryIO) -> None:
                with open(path, "rb") as source:
                    shutil.copyfileobj(source, handle)

            self._atomic_write(target, copy)
        return str(target)

    @staticmethod
    def _chunks(handle: BinaryIO) -> Iterable[bytes]:
        return iter(lambda: handle.read(_CHUNK), b"")

    def get_bytes(self, uri: str) -> bytes:
        with open(uri, "rb") as handle:
            return verify_stream(self._chunks(handle), uri)

    def exists(self, uri: str) -> bool:
        try:
            with open(uri, "rb") as handle:
                verify_stream(self._chunks(handle), uri, sink=lambda _chunk: None)
        except (OSError, IntegrityError):
            return False
        return True

    def download(self, uri: str, dest: Path) -> None:
        def copy(handle: BinaryIO) -> None:
            with open(uri, "rb") as source:
                verify_stream(self._chunks(source), uri, sink=handle.write)

        self._atomic_write(dest, copy)

    def download_tree(self, uri: str, dest: Path) -> None:
        manifest = json.loads(self.get_bytes(uri))
        for rel, file_uri, _size in manifest["files"]:
            self.download(file_uri, dest / rel)

    def local_copy(self, uri: str, name: str, *, tree: bool = False) -> Path:
        """A copy of blob ``uri`` named ``name``, under ``<root>/files/<digest>/`` (made once).

        A task reading a ``File`` sees its real name, and nothing lands in the system temp
        directory. A copy, not a link: a task that writes to it must not corrupt the blob.
        """
        import shutil  # noqa: PLC0415 - loaded when a blob is written, not by every import
        import tempfile  # noqa: PLC0415 - loaded when a blob is written, not by every import

        dest = self.root / "files" / Path(uri).name / name
        if not dest.exists():
            # Built beside its final place and renamed in, so concurrent readers see all or nothing.
            staging = Path(tempfile.mkdtemp(dir=self.root / "blobs", prefix=".tmp-"))
            try:
                (self.download_tree if tree else self.download)(uri, staging / name)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    (staging / name).rename(dest)
                except OSError:
                    if not dest.exists():  # not a lost race with another reader: a real failure
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return dest
