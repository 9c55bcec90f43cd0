"""The sandbox server's socket and messages (``_sandbox_server``, ``_sandbox_client``).

A message is a 4-byte length and that much JSON; the ``run`` request also carries the caller's
stdin, stdout and stderr as file descriptors (``SCM_RIGHTS``).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stratoflow.cache import default_home

__all__ = [
    "INTERRUPTED",
    "MAX_MESSAGE",
    "MAX_SOCKET_PATH",
    "SETTINGS",
    "connect",
    "fingerprint",
    "in_server",
    "receive",
    "send",
    "socket_path",
]

MAX_MESSAGE = 1 << 20
MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path, less its terminating NUL (Linux)
INTERRUPTED = 128 + signal.SIGINT  # a run's exit code after a Ctrl-C, as a shell reports one
SETTINGS = ("STRATOFLOW_", "AWS_", "PYTHON")  # the variables modules read when they are imported
in_server = False  # set in the server (and so in its forked children): they never delegate


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
        if name.startswith(SETTINGS):
            digest.update(f"{name}={value}\0".encode())
    for folder, _, names in sorted(os.walk(package)):
        for name in sorted(names):
            if name.endswith(".py"):
                info = (Path(folder) / name).stat()
                digest.update(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def send(conn: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    payload = json.dumps(message).encode()
    data = struct.pack("!I", len(payload)) + payload
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.sendall(data)


def receive(conn: socket.socket, *, fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
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
    if size > MAX_MESSAGE:
        raise ValueError(f"sandbox server: a message of {size} bytes")
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            return None, received
        body += chunk
    return json.loads(body), received


def connect(home: Path | None, timeout: float | None = 2.0) -> socket.socket | None:
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
