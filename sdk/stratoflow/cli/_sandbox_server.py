"""``stratoflow sandbox start|stop|status``: a warm process that runs ``run --sandbox`` commands.

Half of a cold ``run --sandbox`` is importing the emulator (moto, botocore, the ASL parser):
about half a second, paid again by every run. As ``flytectl demo start`` keeps Flyte's sandbox
up between runs, ``stratoflow sandbox start`` starts a background process that has imported it
once and waits on a Unix socket, ``$STRATOFLOW_HOME/sandbox.sock``. While it is up,
``run --sandbox`` hands it the command: the server forks, the child takes over the caller's
terminal (its stdin, stdout and stderr, passed over the socket), folder, environment and
``sys.path``, runs the command exactly as the caller would have, and sends back the exit code.
Before it serves, the server also runs a small workflow once in a throwaway emulated stack
(``_sandbox_warmup``): a process's first sandbox run parses botocore's service models, builds
moto's backends and loads the runner, which its children then find done. A fork starts from
that state only (no run's), so no run sees another's, and the user's workflow file is imported
by the child, fresh each time.

The server serves only code it loaded: each request carries a fingerprint of the caller's
installed stratoflow (its interpreter, its folder and every module's size and modification
time) and of the settings modules read at import (``STRATOFLOW_*``, ``AWS_*``, ``PYTHON*``); a
server started before an upgrade, an edit or a changed setting refuses, so the caller runs the
command itself and says that the server is out of date. Only the server's own user may
connect (the socket is ``0600`` in the user's home, and the peer's uid is checked). It stops
on ``stratoflow sandbox stop`` or after ``--idle-minutes`` without a request.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import random
import signal
import socket
import struct
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from stratoflow._frozen_heap import freeze_loaded
from stratoflow.cli import _sandbox_wire as wire

__all__ = ["serve"]

_REQUEST_SECONDS = 5.0
_PRELOADED = (  # what every sandbox run imports: loaded once, by the server
    "stratoflow.ir._models",
    "stratoflow.backends.local",
    "stratoflow.cli._run",
    "stratoflow.cli._sandbox",
)


def _peer_is_owner(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def serve(home: Path, *, idle_seconds: float, code: str) -> None:
    """Import the emulator, then serve requests on ``home``'s socket until stopped or idle."""
    wire.in_server = True  # inherited by the forked children: they never delegate
    for module in _PRELOADED:
        importlib.import_module(module)
    from stratoflow.cli._sandbox import emulator, warm_up  # noqa: PLC0415

    emulator()  # a ConfigError (the CLI's one line, in the log) when the emulated AWS is not installed
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - only slower without it: each run warms its own process
        traceback.print_exc()
    freeze_loaded()  # what the children inherit is out of their collections (_frozen_heap)

    listener = _listen(home)
    listener.settimeout(idle_seconds)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return
        with conn:
            try:
                if not _answer(conn, listener, code):
                    return
            except (OSError, ValueError):  # a caller that went away, or sent garbage
                continue


def _listen(home: Path) -> socket.socket:
    path = wire.socket_path(home)
    home.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket is created 0600: only this user may connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(16)
    atexit.register(_unlink_own, path, path.stat().st_ino)
    return listener


def _answer(conn: socket.socket, listener: socket.socket, code: str) -> bool:
    """Answer one request on ``conn``; False once it asks the server to stop."""
    if not _peer_is_owner(conn):
        return True
    conn.settimeout(_REQUEST_SECONDS)  # a caller that connects and says nothing does not hang the server
    request, fds = wire.receive(conn, fds=3)
    conn.settimeout(None)
    try:
        op = None if request is None else request.get("op")
        if op == "stop":
            wire.send(conn, {"status": "stopped"})
            return False
        if op == "ping":
            wire.send(conn, {"status": "up", "pid": os.getpid(), "code": code})
        elif op == "run" and request is not None:
            if request.get("code") != code:
                wire.send(conn, {"status": "stale"})
            elif threading.active_count() > 1:  # a fork would copy no thread but this one
                wire.send(conn, {"status": "busy"})
            elif len(fds) == 3 and os.fork() == 0:
                listener.close()
                _run_child(conn, request, fds)  # never returns
    finally:
        for fd in fds:  # the child has its own copies
            os.close(fd)
    return True


def _unlink_own(path: Path, inode: int) -> None:
    # Not a socket a newer server has bound in its place since (start right after stop).
    with contextlib.suppress(OSError):
        if path.stat().st_ino == inode:
            path.unlink()


def _run_child(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the caller's ``stratoflow ARGV``, report its exit code, exit."""
    code = 1
    try:
        # The child says it started (with its pid, for the caller's Ctrl-C), so this message
        # always comes before its exit code.
        wire.send(conn, {"status": "started", "pid": os.getpid()})
        atexit.unregister(_unlink_own)  # the server's socket is not the run's to remove
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the run waits for its own subprocesses
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, encoding=sys.stdin.encoding, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding=sys.stdout.encoding, closefd=False, buffering=-1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding=sys.stderr.encoding, errors="backslashreplace", closefd=False)  # noqa: SIM115
        if sys.stdout.isatty():
            sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[:] = request["path"]
        sys.argv = ["stratoflow", *request["argv"]]
        random.seed()  # not the server's sequence, shared by every child
        from stratoflow.cli._main import main  # noqa: PLC0415

        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, int | None):
                print(exc.code, file=sys.stderr)
        except KeyboardInterrupt:  # the caller's Ctrl-C (forwarded): as Python ends on one, 128 + SIGINT
            traceback.print_exc()
            code = wire.INTERRUPTED
        except BaseException:  # noqa: BLE001 - as an uncaught exception ends a process: its traceback, exit 1
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()  # what the run registered (os._exit skips them)
        sys.stdout.flush()
        sys.stderr.flush()
        with contextlib.suppress(OSError):
            wire.send(conn, {"exit": code})
    finally:
        os._exit(code)
