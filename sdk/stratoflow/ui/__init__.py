"""``stratoflow ui``: a local web UI (and JSON API) over the runs, served by uvicorn.

Needs the ``ui`` extra (``pip install 'stratoflow[ui]'``): Starlette and uvicorn.
"""

from stratoflow.ui._server import create_app, serve
from stratoflow.ui._sources import LocalSource, RemoteSource, RunSource

__all__ = ["LocalSource", "RemoteSource", "RunSource", "create_app", "serve"]
