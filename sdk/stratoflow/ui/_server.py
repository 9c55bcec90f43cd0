"""The ASGI app (Starlette) and the server that runs it (uvicorn).

The pages are plain HTML, CSS and JavaScript shipped in this package (``static/``): no
build step, nothing fetched from the network, so the UI works offline.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stratoflow.ui._api import api_routes

if TYPE_CHECKING:
    from starlette.requests import Request

    from stratoflow.ui._sources import RunSource

__all__ = ["STATIC", "create_app", "serve"]

STATIC = Path(__file__).with_name("static")


def create_app(source: RunSource) -> Starlette:
    """The UI's app over ``source``: the pages at ``/``, their assets at ``/static``, the API at ``/api``.

    Example:
        >>> app = create_app(LocalSource(default_home()))  # doctest: +SKIP
    """

    async def index(request: Request) -> FileResponse:
        # One page; the address's #fragment says which view (runs list, a run, a node).
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def unknown_api(request: Request) -> JSONResponse:
        return JSONResponse({"error": f"no API route {request.url.path}"}, status_code=404)

    return Starlette(
        routes=[
            Route("/", index),
            *api_routes(source),
            Route("/api/{rest:path}", unknown_api),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), bound before the server starts so the URL printed is real."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def serve(source: RunSource, *, host: str = "127.0.0.1", port: int = 8265) -> None:
    """Serve the UI until interrupted; prints its address first (``port=0`` picks a free port)."""
    import uvicorn  # noqa: PLC0415 - the server only when serving

    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    print(f"stratoflow ui: serving http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C to stop)", flush=True)
    config = uvicorn.Config(create_app(source), log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        sys.stdout.flush()
