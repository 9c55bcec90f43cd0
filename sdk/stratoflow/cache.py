"""The one cache-key function and the cache stores (SQLite locally; DynamoDB in ``stratoflow.aws``).

Key = sha256 of the canonical JSON of: task identity, cache version, interface signature
(input/output names and types) and the input literal hashes minus ignored inputs. The
local executor and the AWS runner both call :func:`cache_key`, so they cannot drift.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from stratoflow import ir
from stratoflow.errors import CacheError
from stratoflow.values import LiteralRef, canonical_json, sha256_hex

if TYPE_CHECKING:  # only an annotation here: pydantic is not imported for it
    from pydantic import JsonValue

__all__ = [
    "CacheEntry",
    "CacheEntryError",
    "CacheStore",
    "OverwritingCacheStore",
    "SqliteCacheStore",
    "cache_key",
    "default_home",
    "enable_wal",
    "local_cache",
]


class CacheEntryError(CacheError):
    """A stored cache entry that cannot be decoded or has the wrong shape: a miss, to be replaced."""


_KEY_TAILS: dict[int, tuple[ir.TaskSpec, bytes]] = {}


def default_home() -> Path:
    """``$STRATOFLOW_HOME``, or ``~/.stratoflow``."""
    return Path(os.environ.get("STRATOFLOW_HOME") or Path.home() / ".stratoflow")


def _interface(task: ir.TaskSpec) -> Any:
    return {
        "inputs": [[v.name, _typeref_json(v.type)] for v in task.inputs],
        "outputs": [[v.name, _typeref_json(v.type)] for v in task.outputs],
    }


def _typeref_json(t: ir.TypeRef) -> dict[str, Any]:
    # TypeRef.model_dump(mode="json") (a test pins the equality), without building its serializer.
    return {"kind": t.kind, "args": [_typeref_json(a) for a in t.args], "ref": t.ref}


def _key_tail(task: ir.TaskSpec) -> bytes:
    """The canonical JSON of a key's payload after its inputs (the same for every run of ``task``)."""
    cached = _KEY_TAILS.get(id(task))
    if cached is not None and cached[0] is task:
        return cached[1]
    rest = {"interface": _interface(task), "task": task.ref, "version": task.cache.version}
    tail = b"," + canonical_json(rest)[1:]  # '{"interface":...}' joined after '{"inputs":{...}'
    _KEY_TAILS[id(task)] = (task, tail)
    return tail


def cache_key(task: ir.TaskSpec, input_hashes: Mapping[str, str]) -> str:
    """The cache key of one run of ``task`` on inputs with these literal hashes: the sha256 of the
    canonical JSON of ``{"inputs": ..., "interface": ..., "task": ..., "version": ...}``.

    The part after the inputs is the same for every run of the task, so it is encoded once
    (``inputs`` sorts first: a cached map's thousand keys encode only their inputs).

    Example:
        >>> cache_key(spec, {"x": literal.hash})  # doctest: +SKIP
        '3f1c...'
    """
    ignored = task.cache.ignore_inputs
    inputs = {name: h for name, h in input_hashes.items() if name not in ignored}
    return sha256_hex(b'{"inputs":' + _inputs_json(inputs) + _key_tail(task))


def _inputs_json(inputs: dict[str, str]) -> bytes:
    """``canonical_json(inputs)``: written directly when every name is an identifier and every
    hash a hex digest (nothing to escape), as for every task input; a cached map's thousand keys
    skip the encoder's set-up. A test pins the bytes equal."""
    if all(
        name.isidentifier() and name.isascii() and h.isascii() and h.isalnum() for name, h in inputs.items()
    ):
        return ("{" + ",".join(f'"{name}":"{h}"' for name, h in sorted(inputs.items())) + "}").encode()
    payload: dict[str, JsonValue] = dict(inputs)
    return canonical_json(payload)


class CacheEntry:
    """A successful run's outputs (literal references), stored under its cache key (``created``:
    when, by default now).

    A plain class, not a frozen dataclass: it is defined in every process that runs a workflow,
    where a dataclass's generated methods take about half a millisecond to define.
    """

    __slots__ = ("created", "outputs", "task", "version")

    def __init__(
        self, task: str, version: str, outputs: dict[str, LiteralRef], created: float | None = None
    ) -> None:
        self.task = task
        self.version = version
        self.outputs = outputs
        self.created = time.time() if created is None else created

    def __repr__(self) -> str:
        return f"CacheEntry(task={self.task!r}, version={self.version!r}, outputs={self.outputs!r})"

    def outputs_json(self) -> str:
        return json.dumps({k: v.to_json() for k, v in self.outputs.items()}, sort_keys=True)

    @staticmethod
    def parse_outputs(text: str) -> dict[str, LiteralRef]:
        """Decode stored outputs; anything but ``{name: literal}`` raises :class:`CacheEntryError`."""
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise TypeError(f"outputs are a {type(raw).__name__}, not an object")
            outputs = {str(k): LiteralRef.from_json(v) for k, v in raw.items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CacheEntryError(f"undecodable outputs ({type(exc).__name__}: {exc})") from exc
        for name, literal in outputs.items():
            if not isinstance(literal.hash, str) or not (literal.uri is None or isinstance(literal.uri, str)):
                raise CacheEntryError(f"output {name!r} is not a literal reference")
        return outputs


def enable_wal(conn: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Put a database (the cache, the run history) in WAL mode, with ``synchronous=NORMAL``: a
    commit waits for no disk flush (checkpoints do); a power cut may lose the last commits, never
    corrupt the file.

    Switching needs the file to itself, and SQLite does not wait for that with its busy timeout:
    a connection opening a new database while another (a sibling thread's, a reader's) creates
    it retries. A new (empty) file switches without flushing to disk: the switch is a
    rollback-journal transaction, four flushes (journal, folder, journal, file) protecting
    nothing yet, as long as the rest of a fresh home's first run.
    """
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        conn.execute("PRAGMA synchronous=OFF")  # for the switch only: NORMAL below
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    conn.execute("PRAGMA synchronous=NORMAL")


class CacheStore(Protocol):
    """Where cache entries live. ``put`` is conditional: the first writer of a key wins, unless
    ``replace`` (``run --overwrite-cache``) says the new entry replaces the one there."""

    def get(self, key: str) -> CacheEntry | None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry | CacheEntryError]:
        """The entries present under ``keys`` (absent keys are left out); an entry that cannot be
        read is its :class:`CacheEntryError`, so one bad entry never hides the others."""
        ...

    def put(self, key: str, entry: CacheEntry, *, replace: bool = False) -> bool: ...

    def delete(self, key: str) -> None: ...


_KEYS_PER_QUERY = 500  # under SQLite's smallest limit on a statement's variables (999)


def _entry(row: Sequence[Any]) -> CacheEntry:
    task, version, outputs, created = row
    if not (isinstance(task, str) and isinstance(version, str) and isinstance(outputs, str)):
        raise CacheEntryError("a column of the entry is not text")
    return CacheEntry(
        task=task, version=version, outputs=CacheEntry.parse_outputs(outputs), created=float(created)
    )


_COLUMNS = "INTO cache (key, task, version, outputs, created) VALUES (?, ?, ?, ?, ?)"
_INSERT_ENTRY = f"INSERT OR IGNORE {_COLUMNS}"  # the first writer of a key wins
_REPLACE_ENTRY = f"INSERT OR REPLACE {_COLUMNS}"  # run --overwrite-cache


class OverwritingCacheStore:
    """``store`` as a run with ``--overwrite-cache`` (Flyte's ``overwrite_cache``) sees it: it reads
    nothing (every cached task runs again) and each result replaces the entry of its key."""

    def __init__(self, store: CacheStore) -> None:
        self.store = store

    def get(self, key: str) -> CacheEntry | None:
        return None

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry | CacheEntryError]:
        return {}

    def put(self, key: str, entry: CacheEntry, *, replace: bool = False) -> bool:
        return self.store.put(key, entry, replace=True)

    def delete(self, key: str) -> None:
        self.store.delete(key)


class SqliteCacheStore:
    """The local cache: one SQLite file, safe for concurrent threads and processes (WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # The file and its table are made on first use: a run whose tasks are not cached never
        # creates (and syncs to disk) a database it does not read.
        self._created = False
        self._create_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
                enable_wal(conn)
                with self._create_lock:
                    if not self._created:
                        conn.execute(
                            "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, task TEXT NOT NULL, "
                            "version TEXT NOT NULL, outputs TEXT NOT NULL, created REAL NOT NULL)"
                        )
                        self._created = True
            except sqlite3.Error as exc:
                raise CacheError(f"cannot open the cache at {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def get(self, key: str) -> CacheEntry | None:
        row = (
            self._connect()
            .execute("SELECT task, version, outputs, created FROM cache WHERE key = ?", (key,))
            .fetchone()
        )
        return None if row is None else _entry(row)

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry | CacheEntryError]:
        """One query per :data:`_KEYS_PER_QUERY` keys (a cached map's thousand look-ups)."""
        found: dict[str, CacheEntry | CacheEntryError] = {}
        conn = self._connect()
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            some = keys[start : start + _KEYS_PER_QUERY]
            marks = ",".join("?" * len(some))
            query = f"SELECT key, task, version, outputs, created FROM cache WHERE key IN ({marks})"  # noqa: S608 - placeholders only
            for key, *row in conn.execute(query, tuple(some)):
                try:
                    found[key] = _entry(row)
                except CacheEntryError as exc:
                    found[key] = exc
        return found

    def put(self, key: str, entry: CacheEntry, *, replace: bool = False) -> bool:
        cursor = self._connect().execute(
            _REPLACE_ENTRY if replace else _INSERT_ENTRY,
            (key, entry.task, entry.version, entry.outputs_json(), entry.created),
        )
        return cursor.rowcount == 1

    def delete(self, key: str) -> None:
        self._connect().execute("DELETE FROM cache WHERE key = ?", (key,))

    def entries(self) -> Iterator[tuple[str, CacheEntry]]:
        """Every entry, newest first (for ``stratoflow cache ls``)."""
        rows = (
            self._connect()
            .execute("SELECT key, task, version, outputs, created FROM cache ORDER BY created DESC")
            .fetchall()
        )
        for key, task, version, outputs, created in rows:
            try:
                parsed = CacheEntry.parse_outputs(outputs)
            except CacheEntryError:
                continue  # unusable: the next lookup of its key replaces it
            yield key, CacheEntry(task=task, version=version, outputs=parsed, created=created)

    def clear(self, task: str | None = None) -> int:
        """Delete every entry (or those of one task); returns how many."""
        if task is None:
            cursor = self._connect().execute("DELETE FROM cache")
        else:
            # By ref ('module:qualname') or by name; '_' and '%' in a name are literal, not wildcards.
            escaped = task.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            cursor = self._connect().execute(
                "DELETE FROM cache WHERE task = ? OR task LIKE ? ESCAPE '\\'", (task, f"%:{escaped}")
            )
        return cursor.rowcount


def local_cache(home: Path, *, use_cache: bool = True, overwrite: bool = False) -> CacheStore | None:
    """A local run's cache under ``home``: none with ``use_cache=False`` (``--no-cache``), and
    one that reads nothing and replaces what it writes with ``overwrite`` (``--overwrite-cache``)."""
    if not use_cache:
        return None
    store = SqliteCacheStore(home / "cache.sqlite")
    return OverwritingCacheStore(store) if overwrite else store
