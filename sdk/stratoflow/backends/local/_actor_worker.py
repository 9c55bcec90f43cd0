"""Inside an actor worker process: serve one environment's requests until the run closes the pipe.

The worker is spawned (a fresh interpreter, so it is safe to start from the executor's threads,
and it inherits no other worker's pipe: a dead worker's pipe reports end-of-file at once). It
imports a task by its ref on first use (``resolve_task``), so a function decorated with
``@actor_cache`` keeps its value for the worker's life: one load per worker, not per task.

Requests and replies are JSON bytes (``send_bytes``/``recv_bytes``): task specs and literal
references only, never a pickled user value. Two requests exist:

``{"op": "attempt", "task", "label", "attempt", "inputs"}``
    one attempt of a task node; one reply, an ``AttemptReply`` (the runtime's, see
    ``stratoflow.runtime._actor``). The dispatcher owns retries and the timeout.
``{"op": "items", "task", "node", "items": [[index, inputs], ...], "retry_base_seconds"}``
    map items, each with the task's retries (``run_map_item``, as a ``processes=True`` map);
    one reply per item as it finishes, ``{"index": i, ...ItemPayload}``, so when the worker
    dies the dispatcher knows which items were done and which one was running.
"""

from __future__ import annotations

import json
import os
from multiprocessing.connection import Connection
from typing import Any

from stratoflow import ir
from stratoflow.backends.local._map_processes import item_payload, worker_context
from stratoflow.runtime._actor import run_attempt
from stratoflow.runtime._map import run_map_item
from stratoflow.values import LiteralRef

__all__ = ["serve"]


def _literals(raw: dict[str, dict[str, ir.JsonValue]]) -> dict[str, LiteralRef]:
    return {name: LiteralRef.from_json(lit) for name, lit in raw.items()}


def _send(conn: Connection, message: Any) -> None:
    conn.send_bytes(json.dumps(message, separators=(",", ":")).encode())


def serve(conn: Connection, home: str, use_cache: bool) -> None:
    """The worker's main loop (the spawned process's target): one request at a time."""
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
        ctx = worker_context(task, home, use_cache)
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
