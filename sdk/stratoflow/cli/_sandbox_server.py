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
import hashlib
import importlib
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stratoflow._frozen_heap import freeze_loaded
from stratoflow.cache import default_home
from stratoflow.errors import ConfigError

__all__ = ["delegate", "fingerprint", "serve", "socket_path", "start", "status", "stop"]

_MAX_MESSAGE = 1 << 20
_MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less its terminating NUL (Linux)
_START_TIMEOUT_SECONDS = 60.0
_REQUEST_SECONDS = 5.0
_INTERRUPTED = 128 + signal.SIGINT  # the child's exit code after a Ctrl-C, as a shell reports one
_PRELOADED = (  # what every sandbox run imports: loaded once, by the server
    "stratoflow.ir._models",
    "stratoflow.backends.local",
    "stratoflow.cli._run",
    "stratoflow.cli._sandbox",
    "stratoflow.testing._sandbox",
)
_SETTINGS = ("STRATOFLOW_", "AWS_", "PYTHON")
_serving = False  # set in the server (and so in its forked children): they never delegate


def socket_path(home: Path | None = None) -> Path:
    """The server's socket: ``$STRATOFLOW_HOME/sandbox.sock``."""
    return (home or default_home()) / "sandbox.sock"


def fingerprint(env: Mapping[str, str] | None = None) -> str:
    """What identifies the code a server runs and the settings it imported it with.

    The interpreter, stratoflow's modules as installed (path, size, modification time), and the
    ``STRATOFLOW_*``, ``AWS_*`` and ``PYTHON*`` variables of ``env`` (default: this process's):
    modules read some of those when they are imported, which the server did once.
    """
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{sys.executable}\0{package}\0".encode())
    for name, value in sorted((os.environ if env is None else env).items()):
        if name.startswith(_SETTINGS):
            digest.update(f"{name}={value}\0".encode())
    for folder, _, names in sorted(os.walk(package)):
        for name in sorted(names):
            if name.endswith(".py"):
                info = (Path(folder) / name).stat()
                digest.update(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _send(conn: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    payload = json.dumps(message).encode()
    data = struct.pack("!I", len(payload)) + payload
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.sendall(data)


def _receive(conn: socket.socket, *, fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message (None at end of stream) and the file descriptors sent with it."""
    received: list[int] = []
    head = b""
    while len(head) < 4:
        if fds and not head:
            chunk, received, _, _ = socket.recv_fds(conn, 4, fds)
        else:
            chunk = conn.recv(4 - len(head))
        if not chunk:
            return None, received
        head += chunk
    (size,) = struct.unpack("!I", head)
    if size > _MAX_MESSAGE:
        raise ValueError(f"sandbox server: a message of {size} bytes")
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            return None, received
        body += chunk
    return json.loads(body), received


def _connect(home: Path | None, timeout: float | None = 2.0) -> socket.socket | None:
    path = socket_path(home)
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(str(path))
    except OSError:  # a socket left by a server that is gone
        conn.close()
        return None
    conn.settimeout(None)
    return conn


def delegate(argv: Sequence[str], home: Path | None = None, *, code: str | None = None) -> int | None:
    """Run ``stratoflow ARGV`` in the sandbox server; its exit code, or None to run it here.

    None when no server is up, or when it has other code or settings than ``code`` (default:
    this process's :func:`fingerprint`): then a line on stderr says so.
    """
    if _serving:
        return None
    conn = _connect(home)
    if conn is None:
        return None
    with conn:
        request = {
            "op": "run",
            "argv": list(argv),
            "cwd": str(Path.cwd()),
            "env": dict(os.environ),
            "path": list(sys.path),
            "code": code or fingerprint(),
        }
        try:
            _send(conn, request, [0, 1, 2])
            reply, _ = _receive(conn)
        except OSError:
            return None
        if reply is None or reply.get("status") != "started":
            if reply is not None and reply.get("status") == "stale":
                print(
                    "note: the sandbox server was started with other code or settings (stratoflow's "
                    "modules, STRATOFLOW_*/AWS_* variables); running without it "
                    "(restart it: stratoflow sandbox start)",
                    file=sys.stderr,
                )
            return None
        exit_code, interrupted = _wait_for_exit(conn, int(reply["pid"]))
    if interrupted and exit_code == _INTERRUPTED:  # end as the run would have here: killed by SIGINT
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return exit_code


def _wait_for_exit(conn: socket.socket, pid: int) -> tuple[int, bool]:
    """The child's exit code, and whether a Ctrl-C was passed on to it."""
    interrupted = False
    while True:
        try:
            reply, _ = _receive(conn)
        except KeyboardInterrupt:  # the terminal's Ctrl-C reaches this process, not the server's child
            interrupted = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            continue
        if reply is None:
            print("error: the sandbox server's run ended without an exit code", file=sys.stderr)
            return 1, interrupted
        return int(reply["exit"]), interrupted


def _peer_is_owner(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", creds)
    return bool(uid == os.getuid())


def serve(home: Path, *, idle_seconds: float, code: str) -> None:
    """Import the emulator, then serve requests on ``home``'s socket until stopped or idle."""
    global _serving  # noqa: PLW0603 - one flag per process, inherited by the forked children
    _serving = True
    for module in _PRELOADED:
        importlib.import_module(module)
    try:
        from stratoflow.cli._sandbox import warm_up  # noqa: PLC0415

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
    path = socket_path(home)
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
    request, fds = _receive(conn, fds=3)
    conn.settimeout(None)
    try:
        op = None if request is None else request.get("op")
        if op == "stop":
            _send(conn, {"status": "stopped"})
            return False
        if op == "ping":
            _send(conn, {"status": "up", "pid": os.getpid(), "code": code})
        elif op == "run" and request is not None:
            if request.get("code") != code:
                _send(conn, {"status": "stale"})
            elif threading.active_count() > 1:  # a fork would copy no thread but this one
                _send(conn, {"status": "busy"})
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
        _send(conn, {"status": "started", "pid": os.getpid()})
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
            code = _INTERRUPTED
        except BaseException:  # noqa: BLE001 - as an uncaught exception ends a process: its traceback, exit 1
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()  # what the run registered (os._exit skips them)
        sys.stdout.flush()
        sys.stderr.flush()
        with contextlib.suppress(OSError):
            _send(conn, {"exit": code})
    finally:
        os._exit(code)


def status(home: Path | None = None) -> dict[str, Any] | None:
    """The server's answer to a ping (``pid``, ``code``), or None when none is up."""
    conn = _connect(home)
    if conn is None:
        return None
    with conn:
        try:
            _send(conn, {"op": "ping"})
            reply, _ = _receive(conn)
        except OSError:
            return None
    return reply


def start(home: Path, *, idle_minutes: float) -> dict[str, Any]:
    """Start a server for ``home`` in the background (stopping one already up); its ping answer."""
    path = socket_path(home)
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        raise ConfigError(
            f"sandbox server: its socket {path} is longer than the {_MAX_SOCKET_PATH} bytes a Unix "
            "socket's path may have; set STRATOFLOW_HOME to a shorter folder"
        )
    stop(home)
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "sandbox-server.log"
    command = [
        sys.executable,
        "-m",
        "stratoflow.cli",
        "sandbox",
        "serve",
        "--idle-minutes",
        str(idle_minutes),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this package
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not the terminal's: its Ctrl-C does not stop the server
            env={**os.environ, "STRATOFLOW_HOME": str(home)},
        )
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        reply = status(home)
        if reply is not None:
            return reply
        time.sleep(0.05)
    reason = "exited" if process.poll() is not None else f"did not start in {_START_TIMEOUT_SECONDS:.0f}s"
    raise ConfigError(f"the sandbox server {reason}; its log: {log_path}")


def stop(home: Path | None = None) -> bool:
    """Stop the server of ``home``; False when none was up."""
    conn = _connect(home)
    if conn is None:
        socket_path(home).unlink(missing_ok=True)
        return False
    with conn:
        try:
            _send(conn, {"op": "stop"})
            _receive(conn)
        except OSError:
            return False
    return True
