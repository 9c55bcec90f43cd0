"""A throw-away HTTP server on localhost serving one folder: URL inputs (Flyte's
``FlyteFile("https://...")``) without the network."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving_handler(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve requests with ``handler`` on a free localhost port; yields the base URL
    (``http://127.0.0.1:<port>``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    """Serve the files of ``folder``; yields its base URL."""
    with serving_handler(functools.partial(_Quiet, directory=str(folder))) as base:
        yield base
