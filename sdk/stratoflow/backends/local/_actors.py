"""Actor tasks on the local backend: single nodes and map items run on their environment's workers.

The workers are the run's (``_actor_pool``): every task and map item of an environment in the run
(single nodes, map items, the nodes of ``@dynamic`` sub-graphs) shares them, so ``@actor_cache``
(a per-process cache) loads once per worker. Tasks and values cross as JSON (task specs, literal
references): nothing is pickled.

Semantics are a plain task's. A node's attempts are ``with_attempts`` around one dispatch each,
with the runtime's cache steps (``dispatch_attempt``: a hit never wakes a worker); the worker runs
the runner's own ``run_task`` and its outcome becomes the same ``TaskFailedError``. A ``timeout``
is enforced here, with the in-process error text, counted from when a worker has the attempt
(waiting for a free worker is not the task's time); the timed-out attempt's worker is killed (a
thread cannot be; a process can). Map items run in the worker with the task's retries, as on
``map_task(processes=True)``.

A worker that dies under a task (killed, out of memory, ``os._exit``) is an infrastructure loss,
like a Spot interruption on AWS: the attempt (or the item, from its first attempt) runs again on a
new worker and does not consume the task's ``retries``. After :data:`MAX_WORKER_RUNS` workers died
under the same attempt or item, it fails with ``WorkerProcessDied``: an attempt's failure, which
the task's ``retries`` then judge, or an item's, which ``min_success_ratio`` judges.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, cast

from stratoflow import ir
from stratoflow.backends.local._actor_pool import ActorPool, Environment, WorkerLostError
from stratoflow.backends.local._map_processes import ItemPayload, item_died, item_result
from stratoflow.errors import TaskFailedError
from stratoflow.runtime import (
    InMemoryOutputStore,
    NodeContext,
    attempt_outputs,
    dispatch_attempt,
    timeout_error,
    with_attempts,
)
from stratoflow.runtime._runner import node_inputs
from stratoflow.values import ItemResult, LiteralRef

__all__ = ["MAX_WORKER_RUNS", "run_actor_items", "run_actor_node"]

MAX_WORKER_RUNS: Final = 3
"""Workers one attempt (or map item) may run on when they die under it, before it fails."""


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def _environment(pool: ActorPool, task: ir.TaskSpec) -> Environment:
    if task.actor is None:
        raise TypeError(f"task '{task.name}' is not an actor task")
    return pool.environment(task.actor)


def _run_attempt(
    pool: ActorPool,
    task: ir.TaskSpec,
    inputs: dict[str, LiteralRef],
    *,
    label: str,
    attempt: int,
    run: str,
    workflow: str,
) -> tuple[dict[str, LiteralRef], bool]:
    """One attempt of an actor task on a worker of its environment: (outputs, cache hit)."""
    env = _environment(pool, task)
    request = _encode(
        {
            "op": "attempt",
            "task": task.model_dump_json(),
            "label": label,
            "attempt": attempt,
            "run": run,
            "workflow": workflow,
            "inputs": {name: lit.to_json() for name, lit in inputs.items()},
        }
    )
    why = ""
    for _ in range(MAX_WORKER_RUNS):
        worker = env.acquire()
        try:
            worker.send(request)
            raw = worker.receive(task.timeout_seconds)
        except WorkerLostError as lost:
            env.discard(worker, lost=True)
            why = lost.why
            continue
        except BaseException:
            env.discard(worker, lost=False)
            raise
        if raw is None:  # timed out: the attempt is abandoned, and its worker with it
            env.discard(worker, lost=False)
            raise timeout_error(label, cast(int, task.timeout_seconds), attempt)
        env.release(worker)
        return attempt_outputs(json.loads(raw), label=label)
    raise TaskFailedError(
        f"node '{label}': {MAX_WORKER_RUNS} actor workers of environment '{env.ref.name}' died "
        f"running it (last: {why}) (attempt {attempt})",
        node=label,
        attempt=attempt,
        error_type="WorkerProcessDied",
    )


def run_actor_node(
    ctx: NodeContext,
    node: ir.TaskNode,
    pool: ActorPool,
    *,
    retry_base_seconds: float,
    on_attempt: Callable[[int], object] | None = None,
) -> bool:
    """Run an actor task node (cache, retries, timeout as a plain node's) and store its outputs.

    Returns whether it was a cache hit. ``on_attempt(n)`` is told of each attempt (the record's count).
    """
    task = ctx.spec.tasks[node.task]

    def attempt_fn(attempt: int) -> tuple[dict[str, LiteralRef], bool]:
        if on_attempt is not None:
            on_attempt(attempt)
        inputs = node_inputs(ctx, node, task)
        return dispatch_attempt(
            ctx,
            task,
            inputs,
            lambda: _run_attempt(
                pool, task, inputs, label=node.id, attempt=attempt, run=ctx.run_id, workflow=ctx.workflow
            ),
        )

    outputs, hit = with_attempts(attempt_fn, retries=task.retries, base_seconds=retry_base_seconds)
    if not ctx.cancelled.is_set():
        ctx.outputs.write_outputs(node.id, outputs)
    return hit


def _items_on(
    env: Environment,
    request: Callable[[list[int]], bytes],
    node_id: str,
    chunk: list[int],
) -> dict[int, ItemResult]:
    """One chunk on one worker at a time; when a worker dies, the chunk's rest go to another."""
    results: dict[int, ItemResult] = {}
    runs: dict[int, int] = {}  # item -> workers that died under it
    remaining = chunk
    while remaining:
        worker = env.acquire()
        try:
            worker.send(request(remaining))
            for _ in remaining:
                payload = json.loads(cast(bytes, worker.receive()))
                index = int(payload.pop("index"))
                results[index] = item_result(node_id, index, cast(ItemPayload, payload))
        except WorkerLostError as lost:
            env.discard(worker, lost=True)
            remaining = [i for i in remaining if i not in results]
            running = remaining[0]  # a worker runs its items in order: this one was running
            runs[running] = runs.get(running, 0) + 1
            if runs[running] >= MAX_WORKER_RUNS:
                why = f"{MAX_WORKER_RUNS} workers died running it; last: {lost.why}"
                results[running] = item_died(node_id, running, why)
                remaining = remaining[1:]
            continue
        except BaseException:
            env.discard(worker, lost=False)
            raise
        env.release(worker)
        remaining = []
    return results


def run_actor_items(
    ctx: NodeContext,
    node: ir.MapNode,
    pool: ActorPool,
    chunks: Sequence[Sequence[int]],
    *,
    parallel: int,
    retry_base_seconds: float,
    on_chunk: Callable[[int], None],
) -> dict[int, ItemResult]:
    """Run a map node's items (in chunks, ``parallel`` chunks at once) on its environment's workers;
    store and return their results. ``on_chunk(n)`` is called as each chunk of ``n`` items ends."""
    task = ctx.spec.tasks[node.task]
    env = _environment(pool, task)
    store = ctx.outputs
    if not isinstance(store, InMemoryOutputStore):
        raise TypeError(f"local map items need an InMemoryOutputStore, not {type(store).__name__}")
    inputs = store.read_map_inputs(node.id, [i for chunk in chunks for i in chunk])
    task_json = task.model_dump_json()

    def request(indices: list[int]) -> bytes:
        items = [[i, {name: lit.to_json() for name, lit in inputs[i].items()}] for i in indices]
        return _encode(
            {
                "op": "items",
                "task": task_json,
                "node": node.id,
                "run": ctx.run_id,
                "workflow": ctx.workflow,
                "items": items,
                "retry_base_seconds": retry_base_seconds,
            }
        )

    def run_chunk(chunk: Sequence[int]) -> dict[int, ItemResult]:
        results = _items_on(env, request, node.id, list(chunk))
        if not ctx.cancelled.is_set():
            store.write_map_results(node.id, results)
        on_chunk(len(chunk))
        return results

    results: dict[int, ItemResult] = {}
    threads = min(parallel, len(chunks))
    if threads <= 1:
        for chunk in chunks:
            results.update(run_chunk(chunk))
        return results
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"actor-{node.id}") as executor:
        for chunk_results in executor.map(run_chunk, chunks):
            results.update(chunk_results)
    return results
