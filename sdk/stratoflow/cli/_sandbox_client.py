"""The caller's side of the sandbox server (``_sandbox_server``): hand it a ``run --sandbox``
command, and ``stratoflow sandbox start|stop|status``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stratoflow.cli import _sandbox_wire as wire
from stratoflow.errors import ConfigError

__all__ = ["delegate", "start", "status", "stop"]

_START_TIMEOUT_SECONDS = 60.0


def delegate(argv: Sequence[str], home: Path | None = None, *, code: str | None = None) -> int | None:
    """Run ``stratoflow ARGV`` in the sandbox server; its exit code, or None to run it here.

    None when no server is up, or when it has other code or settings than ``code`` (default:
    this process's ``_sandbox_wire.fingerprint``): then a line on stderr says so.
    """
    if wire.in_server:
        return None
    conn = wire.connect(home)
    if conn is None:
        return None
    with conn:
        request = {
            "op": "run",
            "argv": list(argv),
            "cwd": str(Path.cwd()),
            "env": dict(os.environ),
            "path": list(sys.path),
            "code": code or wire.fingerprint(),
        }
        try:
            wire.send(conn, request, [0, 1, 2])
            reply, _ = wire.receive(conn)
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
    if interrupted and exit_code == wire.INTERRUPTED:  # end as the run would have here: killed by SIGINT
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
            reply, _ = wire.receive(conn)
        except KeyboardInterrupt:  # the terminal's Ctrl-C reaches this process, not the server's child
            interrupted = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            continue
        if reply is None:
            print("error: the sandbox server's run ended without an exit code", file=sys.stderr)
            return 1, interrupted
        return int(reply["exit"]), interrupted


def status(home: Path | None = None) -> dict[str, Any] | None:
    """The server's answer to a ping (``pid``, ``code``), or None when none is up."""
    conn = wire.connect(home)
    if conn is None:
        return None
    with conn:
        try:
            wire.send(conn, {"op": "ping"})
            reply, _ = wire.receive(conn)
        except OSError:
            return None
    return reply


def start(home: Path, *, idle_minutes: float) -> dict[str, Any]:
    """Start a server for ``home`` in the background (stopping one already up); its ping answer."""
    path = wire.socket_path(home)
    if len(os.fsencode(path)) > wire.MAX_SOCKET_PATH:
        raise ConfigError(
            f"sandbox server: its socket {path} is longer than the {wire.MAX_SOCKET_PATH} bytes a Unix "
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
    if process.poll() is None:
        raise ConfigError(
            f"the sandbox server did not start in {_START_TIMEOUT_SECONDS:.0f}s; its log: {log_path}"
        )
    said = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
    if said and said[0].startswith("error: "):  # the server's CLI said what is wrong, in one line
        raise ConfigError(said[0].removeprefix("error: "))
    raise ConfigError(f"the sandbox server exited; its log: {log_path}")


def stop(home: Path | None = None) -> bool:
    """Stop the server of ``home``; False when none was up."""
    conn = wire.connect(home)
    if conn is None:
        wire.socket_path(home).unlink(missing_ok=True)
        return False
    with conn:
        try:
            wire.send(conn, {"op": "stop"})
            wire.receive(conn)
        except OSError:
            return False
    return True
