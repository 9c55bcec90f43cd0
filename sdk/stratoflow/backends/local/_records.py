"""A local run's per-node records (``ir.NodeRecord``), written into the run history as the run goes.

The scheduler, the map fan-out and the branches hand records to a :class:`NodeRecorder`; a
background thread writes what has accumulated every :data:`FLUSH_SECONDS` in one transaction,
so a reader polling a running run (``executions show``, the web UI) sees it move. Two tables of
``runs.sqlite`` (WAL, beside ``runs``) hold them:

- ``nodes``: one JSON record per node (``INSERT OR REPLACE``: its ``running`` row becomes its outcome);
- ``items``: a map's item outcomes, one row per batch of items as they came (a chunk of a thread
  map, the cache hits, a process map's items), each item a short JSON array (:data:`_ITEM_FIELDS`).
  An item is written once, when it is done, and a record per item would cost more than a trivial
  item itself (pydantic, JSON and an index entry each); :func:`read_records` makes the records.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from stratoflow import ir
from stratoflow.backends.local._node_logs import log_file, node_name
from stratoflow.errors import TaskFailedError
from stratoflow.ir import _node_status
from stratoflow.values import ItemResult, LiteralRef

__all__ = [
    "FLUSH_SECONDS",
    "NodeRecorder",
    "create_nodes_table",
    "error_fields",
    "read_records",
    "replace_records",
]

# Set by the test suite: every record written by hand is also validated as an ``ir.NodeRecord``.
_CHECK_RECORDS: Final = os.environ.get("STRATOFLOW_CHECK_IR") == "1"

FLUSH_SECONDS: Final = 0.25
"""How often the records of a running run reach the history (what a polling reader lags by)."""

_ITEM_FIELDS: Final = (
    "item",
    "status",
    "attempts",
    "started",
    "finished",
    "target",
    "cache_key",
    "error",
    "traceback",
)
"""An item's array in an ``items`` row (``cache_hit`` is ``status == cached``; ``logs`` is the
item's log file under the row's ``home``, for items that ran)."""


def create_nodes_table(conn: sqlite3.Connection) -> None:
    """The ``nodes`` and ``items`` tables (module docstring)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS nodes (run_id TEXT NOT NULL, node TEXT NOT NULL, "
        "started REAL, record TEXT NOT NULL, PRIMARY KEY (run_id, node))"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS items (run_id TEXT NOT NULL, node TEXT NOT NULL, "
        "home TEXT NOT NULL, items TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS items_of_run ON items (run_id)")
    # A finished node's output literals (values inline, blobs by address): a local run keeps its
    # nodes' outputs only in memory, and the web UI's node panel shows them.
    conn.execute(
        "CREATE TABLE IF NOT EXISTS outputs (run_id TEXT NOT NULL, node TEXT NOT NULL, "
        "outputs TEXT NOT NULL, PRIMARY KEY (run_id, node))"
    )


def _item_record(run_id: str, node: str, home: str, raw: list[Any]) -> ir.NodeRecord:
    fields = dict(zip(_ITEM_FIELDS, raw, strict=True))
    cached = fields["status"] == ir.NodeStatus.CACHED
    path = None if cached else f"{home}/{_node_status.node_log_key(run_id, node, fields['item'])}"
    return ir.NodeRecord(
        run_id=run_id,
        node=node,
        cache_hit=cached,
        logs=None if path is None else ir.LogLocation(kind="file", path=path),
        **fields,
    )


def read_records(conn: sqlite3.Connection, run_id: str) -> list[ir.NodeRecord]:
    """Run ``run_id``'s records: nodes in the order they started (never-started ones last), each
    map node followed by its items in index order."""
    rows = conn.execute(
        "SELECT node, record FROM nodes WHERE run_id = ? ORDER BY COALESCE(started, 1e18), node",
        (run_id,),
    ).fetchall()
    items: dict[str, dict[int, ir.NodeRecord]] = {}
    for node, home, batch in conn.execute(
        "SELECT node, home, items FROM items WHERE run_id = ? ORDER BY rowid", (run_id,)
    ):
        for raw in json.loads(batch):  # a later batch's item (a re-run's) replaces an earlier one's
            # An array is a local item (``_ITEM_FIELDS``); an object a whole record (a sandbox run's).
            record = (
                _item_record(run_id, node, home, raw)
                if isinstance(raw, list)
                else ir.NodeRecord.model_validate(raw)
            )
            if record.item is not None:
                items.setdefault(node, {})[record.item] = record
    records: list[ir.NodeRecord] = []
    for node, body in rows:
        records.append(ir.NodeRecord.model_validate_json(body))
        records.extend(record for _, record in sorted(items.pop(node, {}).items()))
    for rest in items.values():  # items whose node's own row is not in yet
        records.extend(record for _, record in sorted(rest.items()))
    return records


def read_outputs(conn: sqlite3.Connection, run_id: str) -> dict[str, dict[str, LiteralRef]]:
    """The output literals run ``run_id`` recorded, by record name (nodes that finished)."""
    return {
        node: {name: LiteralRef.from_json(literal) for name, literal in json.loads(body).items()}
        for node, body in conn.execute("SELECT node, outputs FROM outputs WHERE run_id = ?", (run_id,))
    }


def replace_records(conn: sqlite3.Connection, run_id: str, records: list[ir.NodeRecord]) -> None:
    """Make ``records`` run ``run_id``'s records (a sandbox run's, read from its emulated bucket):
    nodes as rows of ``nodes``, each map node's items as one ``items`` row of whole records."""
    nodes = [r for r in records if r.item is None]
    items: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record.item is not None:
            items.setdefault(record.node, []).append(record.model_dump(mode="json", exclude_defaults=True))
    with conn:
        conn.execute("DELETE FROM nodes WHERE run_id = ?", (run_id,))
        conn.execute("DELETE FROM items WHERE run_id = ?", (run_id,))
        conn.executemany(
            "INSERT OR REPLACE INTO nodes (run_id, node, started, record) VALUES (?, ?, ?, ?)",
            [(run_id, r.node, r.started, r.model_dump_json(exclude_defaults=True)) for r in nodes],
        )
        conn.executemany(
            "INSERT INTO items (run_id, node, home, items) VALUES (?, ?, '', ?)",
            [(run_id, node, json.dumps(rows)) for node, rows in items.items()],
        )


def error_fields(exc: BaseException) -> tuple[str, str | None]:
    """(the one-line error the run reports, the user's traceback) of a failed node."""
    if isinstance(exc, TaskFailedError):
        text = exc.traceback_text
        if text is None and isinstance(exc.__cause__, TaskFailedError):  # a map: its first item's
            text = exc.__cause__.traceback_text
        return str(exc), text
    return f"{type(exc).__name__}: {exc}", None


def _item_row(index: int, result: ItemResult, target: str) -> list[Any]:
    exc = result.exception
    if result.cache_hit:
        status, target = ir.NodeStatus.CACHED.value, "none"
    else:
        status = (ir.NodeStatus.FAILED if result.error is not None else ir.NodeStatus.SUCCEEDED).value
    trace = exc.traceback_text if isinstance(exc, TaskFailedError) else None
    return [index, status, result.attempts, result.started, result.finished, target, result.cache_key,
            result.error, trace]  # fmt: skip


class NodeRecorder:
    """Collects one run's records and writes them to ``history`` (``runs.sqlite``) as they come."""

    def __init__(self, history: Path, run_id: str, home: Path) -> None:
        self.run_id = run_id
        self.home = home
        self._path = history
        self._nodes: dict[str, tuple[float | None, str]] = {}
        self._items: list[tuple[str, list[list[Any]]]] = []
        self._outputs: dict[str, str] = {}
        self._lock = threading.Lock()  # guards what is pending
        self._write_lock = threading.Lock()  # guards the connection (the writer's, or close's)
        self._conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._flush_loop, name=f"records-{run_id[:8]}", daemon=True)
        self._writer.start()

    def _put_fields(self, name: str, fields: dict[str, Any]) -> None:
        # A node's record (replacing its earlier one) as JSON built by hand: a run records every
        # node twice, and a model's first validation or serialization builds its pydantic schema
        # (most of a short run's time). Readers validate it as an ``ir.NodeRecord`` (``read_records``).
        body = json.dumps({key: value for key, value in fields.items() if value is not None})
        with self._lock:
            self._nodes[name] = (fields.get("started"), body)

    def name(self, run_id: str, node_id: str) -> str:
        """The record name of node ``node_id`` of (sub-)run ``run_id``: ``<parent>/<child>`` in a
        ``@dynamic``'s sub-run."""
        return node_name(run_id, node_id)[1]

    def node(self, run_id: str, node_id: str, status: ir.NodeStatus, **fields: object) -> None:
        """Record node ``node_id``'s state in (sub-)run ``run_id`` (``fields``: the rest of an
        ``ir.NodeRecord``)."""
        name = self.name(run_id, node_id)
        if _CHECK_RECORDS:  # the suite: the fields must make a valid record
            ir.NodeRecord(run_id=self.run_id, node=name, status=status, **fields)
        self._put_fields(name, {"run_id": self.run_id, "node": name, "status": status.value, **fields})

    def logs(self, run_id: str, label: str) -> dict[str, str]:
        """Where the task ``label`` of (sub-)run ``run_id`` writes its log (``_node_logs``): an
        ``ir.LogLocation``'s fields."""
        return {"kind": "file", "path": str(log_file(self.home, run_id, label))}

    def outputs(self, run_id: str, node_id: str, literals: Mapping[str, LiteralRef]) -> None:
        """Record the output literals of finished node ``node_id`` of (sub-)run ``run_id``."""
        body = json.dumps({name: literal.to_json() for name, literal in literals.items()})
        name = self.name(run_id, node_id)
        with self._lock:
            self._outputs[name] = body

    def items(
        self, run_id: str, node_id: str, results: Mapping[int, ItemResult], target: _node_status.Target
    ) -> None:
        """Record the outcomes of map node ``node_id``'s items, in (sub-)run ``run_id``."""
        if not results:
            return
        rows = [_item_row(index, result, target) for index, result in results.items()]
        name = self.name(run_id, node_id)
        with self._lock:
            self._items.append((name, rows))

    def _flush(self, last: tuple[str, tuple[object, ...]] | None = None) -> None:
        with self._lock:
            nodes, self._nodes = self._nodes, {}
            items, self._items = self._items, []
            outputs, self._outputs = self._outputs, {}
        if not nodes and not items and not outputs and last is None:
            return
        home = str(self.home)
        try:
            with self._write_lock:
                conn = self._connection()
                with conn:  # one transaction (the default isolation level: ``with`` commits)
                    conn.executemany(
                        "INSERT OR REPLACE INTO nodes (run_id, node, started, record) VALUES (?, ?, ?, ?)",
                        [(self.run_id, node, started, body) for node, (started, body) in nodes.items()],
                    )
                    conn.executemany(
                        "INSERT INTO items (run_id, node, home, items) VALUES (?, ?, ?, ?)",
                        [(self.run_id, node, home, json.dumps(rows)) for node, rows in items],
                    )
                    conn.executemany(
                        "INSERT OR REPLACE INTO outputs (run_id, node, outputs) VALUES (?, ?, ?)",
                        [(self.run_id, node, body) for node, body in outputs.items()],
                    )
                    if last is not None:
                        conn.execute(*last)
        except sqlite3.Error:
            with self._lock:  # written next time (a node's newer record, if any, wins)
                self._nodes = {**nodes, **self._nodes}
                self._items = items + self._items
                self._outputs = {**outputs, **self._outputs}
            raise

    def _connection(self) -> sqlite3.Connection:
        # One connection for the run: closing the last one checkpoints the WAL (an fsync), and a
        # thousand-item map flushes a few times a second.
        if self._conn is None:
            self._conn = sqlite3.connect(self._path, timeout=30.0, check_same_thread=False)
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable enough for bookkeeping
        return self._conn

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self._flush()
            except sqlite3.Error:  # bookkeeping: a locked or full history never fails the run
                continue  # tried again on the next round

    def close(self, last: tuple[str, tuple[object, ...]] | None = None) -> None:
        """Write every record left, and the statement ``last`` (SQL, parameters) in the same
        transaction (the run's outcome: one commit, and one WAL checkpoint when the connection
        closes, instead of two), then stop the writer."""
        self._stop.set()
        self._writer.join()
        try:
            self._flush(last)
        except sqlite3.Error:
            if last is not None:  # the run's outcome is not bookkeeping: it must be written
                raise
        with self._write_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
