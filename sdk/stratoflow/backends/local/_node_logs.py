"""Per-node log files of local runs: what a task prints or logs, also kept in a file of its node.

Local tasks run on threads of one process, so ``sys.stdout`` and ``sys.stderr`` are shared.
While a recorded run goes on they are replaced by a tee: every write still goes where it went
before (the terminal, pytest's capture, rich's progress proxy) and, when the writing thread is
inside a task of a recorded run (the runner's ``execution_scope``: ``current_context()``),
it is appended to that node's, or map item's, log file under the run's STRATOFLOW home
(``_node_status.node_log_key``). ``current_context().logging`` writes to ``sys.stderr``, so
its lines land there too. A file is opened on the first write of its node: a map of a thousand
silent items makes no file. Forked map workers inherit the tee; an actor worker installs its own
(:func:`capture_in_worker`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from pathlib import Path
from typing import IO, Any, Final

from stratoflow.define import running_attempt
from stratoflow.ir import _node_status

__all__ = ["capture_in_worker", "log_file", "node_name", "start_capture", "stop_capture"]

# Patterns are kept as text: ``re`` compiles each on first use (and caches it), not at import.
_ITEM_LABEL: Final = r"^(.*)\[(\d+)\]$"
_MAX_OPEN: Final = 32  # log files kept open at once (a busy map's items reopen theirs: O_APPEND)


def node_name(run_id: str, label: str) -> tuple[str, str, int | None]:
    """(top run id, record node name, map item) of the task ``label`` runs as in run ``run_id``.

    A ``@dynamic`` sub-run's id is ``<parent run>.<node>`` (``runtime.sub_run_id``), so its
    children are ``<node>/<child>``; a map item's label is ``<node>[<index>]``.
    """
    top, *parents = run_id.split(".")
    found = re.match(_ITEM_LABEL, label) if label.endswith("]") else None  # most labels are nodes
    node, item = (found.group(1), int(found.group(2))) if found else (label, None)
    return top, "".join(f"{p}/" for p in parents) + node, item


def log_file(home: Path, run_id: str, label: str) -> Path:
    """The log file of the task ``label`` runs as in run ``run_id`` (a sub-run's id, too)."""
    top, node, item = node_name(run_id, label)
    return home / _node_status.node_log_key(top, node, item)


class _Files:
    """Open log files, a few at a time; writes are whole ``os.write`` calls in append mode."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[Path, int] = {}

    def append(self, path: Path, text: str) -> None:
        data = text.encode("utf-8", "replace")
        with self.lock:
            fd = self.open.get(path)
            if fd is None:
                if len(self.open) >= _MAX_OPEN:
                    os.close(self.open.pop(next(iter(self.open))))
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = self.open[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.write(fd, data)

    def close_all(self) -> None:
        with self.lock:
            for fd in self.open.values():
                os.close(fd)
            self.open.clear()

    def after_fork(self) -> None:
        # A forked map worker must not inherit a lock some parent thread held at fork time.
        self.lock = threading.Lock()


_FILES = _Files()
os.register_at_fork(after_in_child=_FILES.after_fork)
_HOMES: dict[str, Path] = {}  # top run id -> its home, for the runs being recorded in this process
_WORKER_HOME: list[Path] = []  # in an actor worker: the one home every run it serves writes to
_STATE = threading.Lock()
_SAVED: list[tuple[Any, Any]] = []  # (stdout, stderr) the tees replaced, while any run records


_PATHS: dict[tuple[str, str], Path] = {}  # (run id, label) -> its log file: computed once


def read_log_file(path: Path, *, last_bytes: int | None = None) -> str:
    """A node's log file (its last ``last_bytes`` only, when given); ``""`` when there is none:
    a file is made on a node's first line, so a silent node (a silent map item) has none."""
    try:
        with path.open("rb") as handle:
            if last_bytes is not None:
                handle.seek(max(0, path.stat().st_size - last_bytes))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _current_file() -> Path | None:
    running = running_attempt()
    if running is None:
        return None
    path = _PATHS.get(running)
    if path is None:
        run_id, label = running
        home = _HOMES.get(run_id.split(".", 1)[0]) or (_WORKER_HOME[0] if _WORKER_HOME else None)
        if home is None:
            return None
        path = _PATHS[running] = log_file(home, run_id, label)
    return path


# A thread's text waits here until its line ends (``print`` writes the text, then "\n"): a file
# write between the two would widen the window in which another thread's print lands mid-line.
_PARTIAL: dict[int, tuple[Path, str]] = {}


def _write_out(thread: int) -> None:
    pending = _PARTIAL.pop(thread, None)
    if pending is not None:
        with contextlib.suppress(OSError):  # a full disk loses log lines, never the task
            _FILES.append(*pending)


def _keep(text: str) -> None:
    path = _current_file()
    thread = threading.get_ident()
    pending = _PARTIAL.get(thread)
    if pending is not None and pending[0] != path:
        _write_out(thread)  # the thread moved on to another node (or out of one)
        pending = None
    if path is None:
        return
    _PARTIAL[thread] = (path, text if pending is None else pending[1] + text)
    if text.endswith("\n"):
        _write_out(thread)


class _Tee:
    """A text stream that writes to ``inner`` and to the current node's log file."""

    def __init__(self, inner: IO[str]) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        written = self.inner.write(text)
        if text:
            _keep(text)
        return written

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.inner.flush()
        _write_out(threading.get_ident())

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer...: the stream's
        return getattr(self.inner, name)


def _install() -> None:
    _SAVED.append((sys.stdout, sys.stderr))
    sys.stdout = _Tee(sys.stdout)
    sys.stderr = _Tee(sys.stderr)


def start_capture(run_id: str, home: Path) -> None:
    """Keep the nodes' output of run ``run_id`` in log files under ``home`` until :func:`stop_capture`."""
    with _STATE:
        if not _HOMES:
            _install()
        _HOMES[run_id] = home


def stop_capture(run_id: str) -> None:
    """Stop keeping run ``run_id``'s output; the streams are restored when no run records any more."""
    with _STATE:
        _HOMES.pop(run_id, None)
        for thread in list(_PARTIAL):  # lines a task left unended
            _write_out(thread)
        _PATHS.clear()
        _FILES.close_all()  # another run's files reopen on their next line
        if _HOMES or not _SAVED:
            return
        stdout, stderr = _SAVED.pop()
        # Only our own tees are undone: whoever replaced them since (rich, a test) restores theirs.
        if isinstance(sys.stdout, _Tee) and sys.stdout.inner is stdout:
            sys.stdout = stdout
        if isinstance(sys.stderr, _Tee) and sys.stderr.inner is stderr:
            sys.stderr = stderr


def capture_in_worker(home: Path) -> None:
    """In an actor worker process: keep every task's output in its node's log file under ``home``."""
    with _STATE:
        if not _WORKER_HOME:
            _WORKER_HOME.append(home)
            _install()
