"""The local run history behind ``stratoflow executions ls | show``.

Every local run (from the CLI or a plain ``workflow(...)`` call) is recorded in
``$STRATOFLOW_HOME/runs.sqlite``: when it started and ended, its status, and its outputs
(as displayable JSON) or its error; its workflow's spec (the ``specs`` table, one row per
distinct spec, so a reader can draw the DAG); and one ``ir.NodeRecord`` per node and map item
(the ``nodes`` table, written as the run goes: ``_records``). Recording is best-effort bookkeeping around a run;
it never changes the run's result.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from stratoflow import ir
from stratoflow._frozen_heap import freeze_at_exit
from stratoflow.backends.local._executor import LocalRun, RunOptions, run_local
from stratoflow.backends.local._records import (
    NodeRecorder,
    create_nodes_table,
    read_outputs,
    read_records,
    replace_records,
)
from stratoflow.cache import default_home, enable_wal
from stratoflow.errors import ConfigError, SdkError
from stratoflow.runtime import recovered_run_id, validate_inputs
from stratoflow.values import LiteralRef

__all__ = ["RunHistory", "RunRecord", "recover_recorded", "run_recorded"]


# A NamedTuple, not a frozen dataclass: defined in every process that runs a workflow, and a
# tuple is cheaper to define.
class RunRecord(NamedTuple):
    """One recorded local run."""

    run_id: str
    workflow: str
    ref: str
    status: str
    started: float
    finished: float | None
    outputs: Any
    error: str | None
    backend: str = "local"  # "sandbox" for a `stratoflow run --sandbox` run
    skipped: tuple[str, ...] = ()  # nodes in cases a conditional did not take


def _text_keys(value: Any) -> Any:
    """``value`` with every dict key as text (an Enum by its value): JSON keys are strings only."""
    if isinstance(value, dict):
        return {str(getattr(k, "value", k)): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text_keys(v) for v in value]
    return value


class RunHistory:
    """Local runs in one SQLite file (WAL: safe with concurrent runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per thread, kept: every connection closed checkpoints the WAL to disk.
        self._local = threading.local()
        with self._connect() as conn:
            # A new history has every column at once; older ones gain the missing ones below.
            conn.execute(
                "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, "
                "ref TEXT NOT NULL, status TEXT NOT NULL, started REAL NOT NULL, finished REAL, "
                "outputs TEXT, error TEXT, pid INTEGER, host TEXT, backend TEXT, skipped TEXT)"
            )
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            for column, kind in (
                ("pid", "INTEGER"),
                ("host", "TEXT"),
                ("backend", "TEXT"),
                ("skipped", "TEXT"),
                ("spec", "TEXT"),  # the digest of its spec in ``specs``
            ):
                if column not in columns:  # a history written before runs recorded these
                    try:
                        conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
                    except sqlite3.OperationalError as exc:  # another process added it meanwhile
                        if "duplicate column" not in str(exc):
                            raise
            conn.execute("CREATE TABLE IF NOT EXISTS specs (digest TEXT PRIMARY KEY, spec TEXT NOT NULL)")
            create_nodes_table(conn)

    def _connect(self) -> sqlite3.Connection:
        kept: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if kept is not None:
            return kept
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._local.conn = conn
        enable_wal(conn)  # and synchronous=NORMAL: bookkeeping pays no disk flush per write
        return conn

    def start(self, run_id: str, spec: ir.WorkflowSpec, *, backend: str = "local") -> None:
        # Kept to be read back (its DAG), not to name a key: built without pydantic's serializer.
        body = json.dumps(spec.plain(), sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(body).hexdigest()
        with self._connect() as conn:
            conn.execute("BEGIN")  # one commit for both rows
            conn.execute("INSERT OR IGNORE INTO specs (digest, spec) VALUES (?, ?)", (digest, body.decode()))
            conn.execute(
                "INSERT INTO runs (run_id, workflow, ref, status, started, pid, host, backend, spec) "
                "VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?)",
                (
                    run_id,
                    spec.name,
                    spec.ref,
                    time.time(),
                    os.getpid(),
                    _host(),
                    backend,
                    digest,
                ),
            )

    def spec(self, run_id: str) -> ir.WorkflowSpec | None:
        """The workflow spec run ``run_id`` ran (its DAG), or ``None`` (an unknown run, or one
        recorded before runs kept their spec)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT specs.spec FROM runs JOIN specs ON specs.digest = runs.spec WHERE runs.run_id = ?",
                (run_id,),
            ).fetchone()
        return None if row is None else ir.WorkflowSpec.model_validate_json(row[0])

    def nodes(self, run_id: str) -> list[ir.NodeRecord]:
        """Run ``run_id``'s node and map item records (a running run's, as far as it got).

        Nodes come in the order they started, each map node followed by its items by index.
        """
        with self._connect() as conn:
            return read_records(conn, run_id)

    def outputs(self, run_id: str) -> dict[str, dict[str, LiteralRef]]:
        """The output literals of run ``run_id``'s finished nodes, by record name (none recorded
        for runs before runs kept them, or a sandbox run's)."""
        with self._connect() as conn:
            return read_outputs(conn, run_id)

    def put_nodes(self, run_id: str, records: list[ir.NodeRecord]) -> None:
        """Make ``records`` run ``run_id``'s node records (a sandbox run's, copied from its emulated
        bucket as it goes and once it ended)."""
        with self._connect() as conn:
            conn.isolation_level = "DEFERRED"  # one transaction (``replace_records`` commits it)
            replace_records(conn, run_id, records)

    def finish(
        self,
        run_id: str,
        status: str,
        *,
        outputs: Any = None,
        error: str | None = None,
        skipped: tuple[str, ...] = (),
        records: NodeRecorder | None = None,
    ) -> None:
        """Record the run's outcome; with ``records``, after its last node records, in their transaction."""
        update = (
            "UPDATE runs SET status = ?, finished = ?, outputs = ?, error = ?, skipped = ? WHERE run_id = ?",
            (
                status,
                time.time(),
                None if outputs is None else json.dumps(_text_keys(outputs), default=str),
                error,
                json.dumps(list(skipped)) if skipped else None,
                run_id,
            ),
        )
        if records is not None:
            records.close(update)
            return
        with self._connect() as conn:
            conn.execute(*update)

    def _record(self, row: tuple[Any, ...]) -> RunRecord:
        run_id, workflow, ref, status, started, finished, outputs, error, pid, host, backend, skipped = row
        if status == "RUNNING" and _gone(pid, host):
            # Its process was killed (SIGKILL, OOM, power): it can never finish, so it is not running.
            status = "ABANDONED"
            error = error or f"process {pid} on {host} ended without recording an outcome"
        return RunRecord(
            run_id,
            workflow,
            ref,
            status,
            started,
            finished,
            json.loads(outputs) if outputs else None,
            error,
            backend or "local",
            tuple(json.loads(skipped)) if skipped else (),
        )

    def list(self, limit: int = 20) -> Iterator[RunRecord]:
        """The newest runs first."""
        with self._connect() as conn:
            query = f"SELECT {_COLUMNS} FROM runs ORDER BY started DESC LIMIT ?"  # noqa: S608 - constant columns
            rows = conn.execute(query, (limit,)).fetchall()
        yield from (self._record(row) for row in rows)

    def get(self, run_id: str) -> RunRecord | None:
        """A run by id, or by a unique prefix of its id (an exact id wins over the runs it prefixes)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM runs WHERE run_id LIKE ? || '%' ESCAPE '\\'",  # noqa: S608 - constant
                (_escape(run_id),),
            ).fetchall()
        exact = [row for row in rows if row[0] == run_id]  # a recovered run's id extends its source's
        if exact:
            return self._record(exact[0])
        return self._record(rows[0]) if len(rows) == 1 else None


_COLUMNS = "run_id, workflow, ref, status, started, finished, outputs, error, pid, host, backend, skipped"


def _host() -> str:
    # uname's node name, which gethostname() also returns, without loading socket (and selectors).
    return platform.node()


def _gone(pid: int | None, host: str | None) -> bool:
    """Whether a run's recorded process is known to have ended (only answerable on its own host)."""
    if pid is None or host != _host():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def run_recorded(
    spec: ir.WorkflowSpec,
    inputs: Mapping[str, Any],
    options: RunOptions | None = None,
    *,
    display: Callable[[dict[str, Any]], Any] = lambda outputs: outputs,
) -> LocalRun:
    """``run_local`` plus a record in the run history (``stratoflow executions``)."""
    options = options or RunOptions()
    validate_inputs(spec, inputs)  # rejected inputs are not runs: nothing is recorded
    freeze_at_exit()  # the interpreter's shutdown walks none of this process's heap again
    home = options.home or default_home()
    history = RunHistory(home / "runs.sqlite")
    run_id = uuid.uuid4().hex
    return _recorded(
        history,
        home,
        run_id,
        spec,
        run=lambda records: run_local(spec, inputs, options, run_id=run_id, records=records),
        display=display,
    )


def recover_recorded(
    run_id: str,
    options: RunOptions | None = None,
    *,
    display: Callable[[dict[str, Any]], Any] = lambda outputs: outputs,
    prepare: Callable[[Path], None] = lambda workflow_file: None,
) -> LocalRun:
    """Recover the failed local run ``run_id`` (or a unique prefix of it) from the run history.

    A new run (``<run>-r<hex>``, recorded too) of the same IR on the same inputs, reusing every node and
    map item that succeeded in the failed run, cached or not (their functions are not called again), and
    running the rest with the code as it is now. ``prepare`` is called with the workflow's source file first
    (the command line imports it there, so its tasks resolve in a new process).

    Example:
        >>> recover_recorded("3f2a").recovered  # doctest: +SKIP
        {'extract', 'clean'}
    """
    options = options or RunOptions()
    home = options.home or default_home()
    history = RunHistory(home / "runs.sqlite")
    record = history.get(run_id)
    if record is None:
        raise ConfigError(
            f"no local run {run_id!r} in the run history {history.path} (or the prefix is ambiguous)"
        )
    if record.status == "SUCCEEDED":
        raise ConfigError(f"run {record.run_id} succeeded: there is nothing to recover")
    from stratoflow.backends.local._recover import current_spec, load_snapshot  # noqa: PLC0415 - recover only

    snapshot = load_snapshot(home, record.workflow, record.run_id)
    prepare(snapshot.workflow_file())
    new_id = recovered_run_id(record.run_id)
    inputs = snapshot.decoded_inputs(home)
    spec = current_spec(snapshot)

    def run(records: NodeRecorder) -> LocalRun:
        return run_local(spec, inputs, options, run_id=new_id, recovery=snapshot.recovery, records=records)

    return _recorded(history, home, new_id, spec, run=run, display=display)


def _recorded(
    history: RunHistory,
    home: Path,
    run_id: str,
    spec: ir.WorkflowSpec,
    *,
    run: Callable[[NodeRecorder], LocalRun],
    display: Callable[[dict[str, Any]], Any],
) -> LocalRun:
    history.start(run_id, spec)
    records = NodeRecorder(history.path, run_id, home)
    try:
        done = run(records)
        outputs = display(done.outputs)
    except SdkError as exc:
        history.finish(run_id, "FAILED", error=str(exc), records=records)
        raise
    except BaseException as exc:
        history.finish(run_id, "FAILED", error=f"{type(exc).__name__}: {exc}", records=records)
        raise
    # The outcome goes in with the last node records: no reader sees a finished run still running nodes.
    history.finish(run_id, "SUCCEEDED", outputs=outputs, skipped=tuple(sorted(done.skipped)), records=records)
    return done
