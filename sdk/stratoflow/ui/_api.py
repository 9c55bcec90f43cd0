"""The JSON API under ``/api/``: the same data the pages show, for scripts and the pages themselves.

- ``GET /api/runs?workflow=&status=&limit=``: newest runs first.
- ``GET /api/runs/{run_id}``: one run, with its outputs, error, graph and console link.
- ``GET /api/runs/{run_id}/nodes``: its node and map item records.
- ``GET /api/runs/{run_id}/nodes/{node}/logs?item=``: a node's (or map item's) log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request

    from stratoflow.ui._sources import RunSource

__all__ = ["api_routes"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    return int(text)  # a ValueError becomes a 400 in _guarded


def api_routes(source: RunSource) -> list[Route]:
    """The API's routes over ``source`` (reads run in a worker thread: SQLite and boto3 block)."""

    async def runs(request: Request) -> JSONResponse:
        limit = min(MAX_LIMIT, _int_param(request, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT)
        workflow = request.query_params.get("workflow") or None
        status = (request.query_params.get("status") or "").upper() or None
        # Filters apply before the limit, so "the last 20 failed runs" is 20 failed runs.
        rows = await run_in_threadpool(source.runs, MAX_LIMIT if workflow or status else limit)
        picked = [
            row
            for row in rows
            if (workflow is None or row["workflow"] == workflow)
            and (status is None or row["status"] == status)
        ]
        return JSONResponse(
            {
                "runs": picked[:limit],
                "workflows": sorted({row["workflow"] for row in rows}),
                "source": source.label(),
            }
        )

    async def run(request: Request) -> JSONResponse:
        run_id = request.path_params["run_id"]
        found = await run_in_threadpool(source.run, run_id)
        return _error(404, f"no run {run_id!r}") if found is None else JSONResponse(found)

    async def nodes(request: Request) -> JSONResponse:
        run_id = request.path_params["run_id"]
        found = await run_in_threadpool(source.nodes, run_id)
        return _error(404, f"no run {run_id!r}") if found is None else JSONResponse({"nodes": found})

    async def logs(request: Request) -> JSONResponse:
        run_id, node = request.path_params["run_id"], request.path_params["node"]
        item = _int_param(request, "item", None)
        found = await run_in_threadpool(source.logs, run_id, node, item)
        if found is None:
            what = node if item is None else f"{node} item {item}"
            return _error(404, f"no record of {what} in run {run_id!r}")
        return JSONResponse({"run_id": run_id, "node": node, "item": item, **found})

    def guarded(endpoint: Any) -> Any:
        async def call(request: Request) -> JSONResponse:
            try:
                response: JSONResponse = await endpoint(request)
            except ValueError as exc:
                return _error(400, f"{request.url.path}: bad query: {exc}")
            return response

        return call

    return [
        Route("/api/runs", guarded(runs)),
        Route("/api/runs/{run_id}", guarded(run)),
        Route("/api/runs/{run_id}/nodes", guarded(nodes)),
        # `node:path`: a @dynamic's children are named "<parent>/<child>".
        Route("/api/runs/{run_id}/nodes/{node:path}/logs", guarded(logs)),
    ]
