"""A local run's per-node records (``ir.NodeRecord``), written into the run history as the run goes.

The scheduler, the map fan-out and the branches hand records to a :class:`NodeRecorder`; a
background thread writes what has accumulated every :data:`FLUSH_SECONDS` in one transaction
(``INSERT OR REPLACE``: a node's ``running`` row becomes its outcome), so a reader polling a
running run (``executions show``, the web UI) sees it move, and a thousand map items cost a
handful of transactions, not a thousand. The table lives in ``runs.sqlite`` (WAL), beside the
``runs`` table :class:`~stratoflow.backends.local.RunHistory` keeps; both read it with
:func:`read_records`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from stratoflow import ir
from stratoflow.backends.local._node_logs import log_file, node_name
from stratoflow.errors import TaskFailedError
from stratoflow.ir import _node_record
from stratoflow.values import ItemResult

__all__ = ["FLUSH_SECONDS", "NodeRecorder", "create_nodes_table", "error_fields", "read_records"]

FLUSH_SECONDS: Final = 0.25
"""How often the records of a running run reach the history (what a polling reader lags by)."""

_NO_ITEM: Final = -1  # the node's own row: SQLite's primary key treats NULLs as distinct


def create_nodes_table(conn: sqlite3.Connection) -> None:
    """The ``nodes`` table: one JSON record per (run, node, item)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS nodes (run_id TEXT NOT NULL, node TEXT NOT NULL, "
        "item INTEGER NOT NULL, started REAL, record TEXT NOT NULL, PRIMARY KEY (run_id, node, item))"
    )


def read_records(conn: sqlite3.Connection, run_id: str) -> list[ir.NodeRecord]:
    """Run ``run_id``'s records: nodes in the order they started (never-started ones last), items
    after their node in index order."""
    rows = conn.execute(
        "SELECT record FROM nodes WHERE run_id = ? ORDER BY "
        "(SELECT COALESCE(n.started, 1e18) FROM nodes n WHERE n.run_id = nodes.run_id "
        "AND n.node = nodes.node AND n.item = -1), node, item",
        (run_id,),
    ).fetchall()
    return [ir.NodeRecord.model_validate_json(row[0]) for row in rows]


def error_fields(exc: BaseException) -> tuple[str, str | None]:
    """(the one-line error the run reports, the user's traceback) of a failed node."""
    if isinstance(exc, TaskFailedError):
        text = exc.traceback_text
        if text is None and isinstance(exc.__cause__, TaskFailedError):  # a map: its first item's
            text = exc.__cause__.traceback_text
        return str(exc), text
    return f"{type(exc).__name__}: {exc}", None


class NodeRecorder:
    """Collects one run's records and writes them to ``history`` (``runs.sqlite``) as they come."""

    def __init__(self, history: Path, run_id: str, home: Path) -> None:
        self.run_id = run_id
        self.home = home
        self._path = history
        self._pending: dict[tuple[str, int], tuple[float | None, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seen: set[str] = set()  # nodes (not items) with a record: the rest were never reached
        self._writer = threading.Thread(target=self._flush_loop, name=f"records-{run_id[:8]}", daemon=True)
        self._writer.start()

    def put(self, record: ir.NodeRecord) -> None:
        """Keep ``record`` (it replaces the same node's or item's earlier one)."""
        with self._lock:
            self._pending[(record.node, _NO_ITEM if record.item is None else record.item)] = (
                record.started,
                record.model_dump_json(exclude_defaults=True),
            )
            if record.item is None:
                self._seen.add(record.node)

    def name(self, run_id: str, node_id: str) -> str:
        """The record name of node ``node_id`` of (sub-)run ``run_id``: ``<parent>/<child>`` in a
        ``@dynamic``'s sub-run."""
        return node_name(run_id, node_id)[1]

    def node(self, run_id: str, node_id: str, status: ir.NodeStatus, **fields: object) -> None:
        """Record node ``node_id``'s state in (sub-)run ``run_id`` (``fields``: the rest of an
        ``ir.NodeRecord``)."""
        name = self.name(run_id, node_id)
        self.put(ir.NodeRecord(run_id=self.run_id, node=name, status=status, **fields))

    def logs(self, run_id: str, label: str) -> ir.LogLocation:
        """Where the task ``label`` of (sub-)run ``run_id`` writes its log (``_node_logs``)."""
        return ir.LogLocation(kind="file", path=str(log_file(self.home, run_id, label)))

    def items(
        self, run_id: str, node_id: str, results: Mapping[int, ItemResult], target: _node_record.Target
    ) -> None:
        """Record the outcomes of map node ``node_id``'s items, in (sub-)run ``run_id``."""
        name = self.name(run_id, node_id)
        records: list[ir.NodeRecord] = []
        for index, result in results.items():
            ran: _node_record.Target = "none" if result.cache_hit else target
            if result.cache_hit:
                status = ir.NodeStatus.CACHED
            else:
                status = ir.NodeStatus.FAILED if result.error is not None else ir.NodeStatus.SUCCEEDED
            exc = result.exception
            records.append(
                ir.NodeRecord(
                    run_id=self.run_id,
                    node=name,
                    item=index,
                    status=status,
                    attempts=result.attempts,
                    started=result.started,
                    finished=result.finished,
                    target=ran,
                    cache_key=result.cache_key,
                    cache_hit=result.cache_hit,
                    error=result.error,
                    traceback=exc.traceback_text if isinstance(exc, TaskFailedError) else None,
                    logs=None if result.cache_hit else self.logs(run_id, f"{node_id}[{index}]"),
                )
            )
        for record in records:
            self.put(record)

    def seen(self, node: str) -> bool:
        """Whether ``node`` has a record."""
        with self._lock:
            return node in self._seen

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        rows = [(self.run_id, node, item, started, body) for (node, item), (started, body) in pending.items()]
        try:
            # The default isolation level: executemany runs in one transaction that ``with`` commits.
            conn = sqlite3.connect(self._path, timeout=30.0)
            try:
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO nodes (run_id, node, item, started, record) "
                        "VALUES (?, ?, ?, ?, ?)",
                        rows,
                    )
            finally:
                conn.close()
        except sqlite3.Error:
            with self._lock:  # written next time, unless a newer record replaced it meanwhile
                self._pending = {**pending, **self._pending}
            raise

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            try:
                self._flush()
            except sqlite3.Error:  # bookkeeping: a locked or full history never fails the run
                time.sleep(FLUSH_SECONDS)

    def close(self) -> None:
        """Write every record left and stop the writer."""
        self._stop.set()
        self._writer.join()
        with contextlib.suppress(sqlite3.Error):  # bookkeeping, as in the loop
            self._flush()
