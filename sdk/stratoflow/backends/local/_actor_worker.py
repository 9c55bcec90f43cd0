"""Inside an actor worker process: serve one environment's requests until the run closes the pipe.

The worker comes from the forkserver or is spawned (``_actor_pool``), never forked from the run's
threaded process. It imports a task by its ref on first use (``resolve_task``), so a function
decorated with ``@actor_cache`` keeps its value for the worker's life: one load per worker, not
per task. So an actor task must be importable by its ref (a module, or a script file run as a
script), as on AWS; one defined in a notebook's ``__main__`` is refused with a clear error.

Requests and replies are JSON bytes (``send_bytes``/``recv_bytes``): task specs and literal
references only, never a pickled user value. Two requests exist:

``{"op": "attempt", "task", "label", "attempt", "run", "inputs"}``
    one attempt of a task node; one reply, an ``AttemptReply`` (the runtime's, see
    ``stratoflow.runtime._actor``). The dispatcher owns retries and the timeout.
``{"op": "items", "task", "node", "run", "items": [[index, inputs], ...], "retry_base_seconds"}``
    map items, each with the task's retries (``run_map_item``, as a ``processes=True`` map);
    one reply per item as it finishes, ``{"index": i, ...ItemPayload}``, so when the worker
    dies the dispatcher knows which items were done and which one was running.
"""

from __future__ import annotations

import json
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.backends.local._map_processes import ItemPayload, item_payload, worker_context
from stratoflow.backends.local._node_logs import capture_in_worker
from stratoflow.define import resolve_task
from stratoflow.runtime import AttemptReply, run_attempt
from stratoflow.runtime._map import run_map_item
from stratoflow.values import LiteralRef

__all__ = ["serve"]


def _literals(raw: dict[str, dict[str, ir.JsonValue]]) -> dict[str, LiteralRef]:
    return {name: LiteralRef.from_json(lit) for name, lit in raw.items()}


def _send(conn: Connection, message: Any) -> None:
    conn.send_bytes(json.dumps(message, separators=(",", ":")).encode())


def _unimportable(task: ir.TaskSpec) -> tuple[str, str] | None:
    """(error, error type) when the worker cannot import the task's function."""
    try:
        resolve_task(task.ref)
    except Exception as exc:  # noqa: BLE001 - sent back as data
        return (
            f"task '{task.name}' ({task.ref}) cannot be imported in an actor worker process "
            f"({type(exc).__name__}: {exc}); define actor tasks in a module or a script file",
            type(exc).__name__,
        )
    return None


def _refuse(conn: Connection, request: dict[str, Any], error: str, error_type: str) -> None:
    if request["op"] == "attempt":
        _send(conn, AttemptReply(failed="runner", error=error, error_type=error_type))
        return
    for index, _ in request["items"]:  # each item fails, and min_success_ratio judges the map
        item = ItemPayload(
            output=None,
            cache_hit=False,
            error=error,
            error_type=error_type,
            attempt=1,
            traceback=None,
            attempts=1,
        )
        _send(conn, {"index": index, **item})


def serve(
    conn: Connection, home: str, use_cache: bool, environ: dict[str, str], overwrite_cache: bool = False
) -> None:
    """The worker's main loop (its process's target): one request at a time.

    ``environ`` is the run's environment when the worker started: a task sees the variables a
    plain task of the run would, not those the forkserver had when it started.
    """
    os.environ.clear()
    os.environ.update(environ)
    capture_in_worker(Path(home))  # what its tasks print goes to their nodes' log files too
    _send(conn, {"ready": os.getpid()})  # booted: the run's timeouts count from here, not from spawn
    specs: dict[str, ir.TaskSpec] = {}  # a spec's JSON -> the parsed spec: parsed once per worker
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except EOFError:  # the run closed its end (stopped this worker, or ended): exit
            return
        raw_spec: str = request["task"]
        task = specs.get(raw_spec)
        if task is None:
            task = specs[raw_spec] = ir.TaskSpec.model_validate_json(raw_spec)
        problem = _unimportable(task)
        if problem is not None:
            _refuse(conn, request, *problem)
            continue
        ctx = worker_context(
            task,
            home,
            use_cache,
            request.get("run"),
            request.get("workflow", ""),
            overwrite_cache=overwrite_cache,
        )
        if request["op"] == "attempt":
            reply = run_attempt(
                ctx, task, _literals(request["inputs"]), label=request["label"], attempt=request["attempt"]
            )
            _send(conn, reply)
            continue
        for index, literals in request["items"]:
            label = f"{request['node']}[{index}]"
            result = run_map_item(ctx, task, _literals(literals), label, request["retry_base_seconds"])
            _send(conn, {"index": index, **item_payload(result)})
