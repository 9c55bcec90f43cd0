"""Map items in worker processes, for CPU-bound tasks that threads cannot speed up (the GIL).

A worker process never sees the parent's in-memory output store. Each chunk it gets is
plain JSON: the task spec, the items' input literals, the STRATOFLOW home and the run's
options. The worker opens its own blob store and SQLite cache in that home (both are
safe across processes), runs each item with the runtime's ``run_map_item`` (cache first,
the task's retries), and returns plain JSON; the parent turns that into ``ItemResult``
values and writes them to its store. So caching, retries, ``min_success_ratio`` and item
order behave exactly as with threads.

Workers are forked (Linux): a task defined in a script or a test module is then found in
the inherited task registry, with no import by path. Where fork is missing or unsafe
(macOS lists it, but system libraries crash in forked children), items run on threads
and a warning says so.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import NotRequired, TypedDict

from stratoflow import ir
from stratoflow.cache import CacheStore, OverwritingCacheStore, local_cache
from stratoflow.errors import TaskFailedError
from stratoflow.runtime import InMemoryOutputStore, LocalRunStorage, NodeContext, task_context
from stratoflow.runtime._map import run_map_item
from stratoflow.values import ItemResult, LiteralRef, LocalBlobStore

__all__ = [
    "ChunkPayload",
    "ItemPayload",
    "fork_context",
    "item_died",
    "item_payload",
    "item_result",
    "run_chunks_in_processes",
    "worker_context",
]

_LOG = logging.getLogger("stratoflow.local")


class ChunkPayload(TypedDict):
    """What one worker chunk receives (JSON-able: nothing of the parent's run goes along)."""

    node: str
    task: str  # TaskSpec JSON
    items: list[tuple[int, dict[str, dict[str, ir.JsonValue]]]]  # (index, input literals)
    home: str
    use_cache: bool
    overwrite_cache: bool  # run --overwrite-cache: read nothing, replace what is written
    retry_base_seconds: float
    run: str  # the run's id (a task's current_context())
    workflow: str  # the run's workflow (its checkpoints' and cache entries' scope)


class ItemPayload(TypedDict):
    """One item's outcome as the worker returns it."""

    output: dict[str, ir.JsonValue] | None
    cache_hit: bool
    error: str | None
    error_type: str | None
    attempt: int
    traceback: str | None
    # For the item's record (``ir.NodeRecord``): attempts made, when it ran, its cache key.
    attempts: NotRequired[int]
    started: NotRequired[float | None]
    finished: NotRequired[float | None]
    cache_key: NotRequired[str | None]


def fork_context() -> BaseContext | None:
    """The 'fork' multiprocessing context, or None where fork is missing or unsafe."""
    if sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


# --- in the worker process ------------------------------------------------------------------------

# One blob store and cache connection per worker process, home and cache mode, opened on first use.
_WORKER_STORES: dict[tuple[str, bool, bool], tuple[LocalBlobStore, CacheStore | None]] = {}


def worker_context(
    task: ir.TaskSpec,
    home: str,
    use_cache: bool,
    run_id: str | None = None,
    workflow: str = "",
    *,
    overwrite_cache: bool = False,
) -> NodeContext:
    """A context that runs ``task`` of run ``run_id`` of ``workflow`` in a worker process, on its own
    stores in ``home`` (``overwrite_cache``: as ``cache.local_cache``'s ``overwrite``)."""
    key = (home, use_cache, overwrite_cache)
    if key not in _WORKER_STORES:
        root = Path(home)
        _WORKER_STORES[key] = (
            LocalBlobStore(root),
            local_cache(root, use_cache=use_cache, overwrite=overwrite_cache),
        )
    blobs, cache = _WORKER_STORES[key]
    return task_context(
        task,
        blobs,
        cache,
        use_cache=use_cache,
        run_id=run_id,
        storage=LocalRunStorage(home),
        workflow=workflow,
    )


def item_payload(result: ItemResult) -> ItemPayload:
    """An item's result as the plain JSON a worker sends back."""
    exc = result.exception
    return ItemPayload(
        output=result.output.to_json() if result.output is not None else None,
        cache_hit=result.cache_hit,
        error=result.error,
        error_type=result.error_type,
        attempt=exc.attempt if isinstance(exc, TaskFailedError) else 1,
        traceback=exc.traceback_text if isinstance(exc, TaskFailedError) else None,
        attempts=result.attempts,
        started=result.started,
        finished=result.finished,
        cache_key=result.cache_key,
    )


def run_chunk(payload: ChunkPayload) -> list[tuple[int, ItemPayload]]:
    """Run one chunk of items (in a worker process); item failures are returned, not raised."""
    task = ir.TaskSpec.model_validate_json(payload["task"])
    ctx = worker_context(
        task,
        payload["home"],
        payload["use_cache"],
        payload["run"],
        payload["workflow"],
        overwrite_cache=payload["overwrite_cache"],
    )
    results: list[tuple[int, ItemPayload]] = []
    for index, literals in payload["items"]:
        inputs = {name: LiteralRef.from_json(lit) for name, lit in literals.items()}
        label = f"{payload['node']}[{index}]"
        result = run_map_item(ctx, task, inputs, label, payload["retry_base_seconds"])
        results.append((index, item_payload(result)))
    return results


# --- in the parent ----------------------------------------------------------------------------------


def item_result(node_id: str, index: int, item: ItemPayload) -> ItemResult:
    """A worker's item payload as the ``ItemResult`` the map store holds."""
    attempts, started, finished = item.get("attempts", 0), item.get("started"), item.get("finished")
    if item["error"] is None:
        output = LiteralRef.from_json(item["output"]) if item["output"] is not None else None
        return ItemResult(
            output=output,
            cache_hit=item["cache_hit"],
            cache_key=item.get("cache_key"),
            attempts=attempts,
            started=started,
            finished=finished,
        )
    # The user's exception stayed in the worker; its traceback text comes back instead.
    exception = TaskFailedError(
        item["error"],
        node=f"{node_id}[{index}]",
        attempt=item["attempt"],
        error_type=item["error_type"] or "Exception",
        traceback_text=item["traceback"],
    )
    return ItemResult(
        error=item["error"],
        error_type=item["error_type"],
        exception=exception,
        attempts=attempts,
        started=started,
        finished=finished,
    )


def item_died(node_id: str, index: int, why: str) -> ItemResult:
    """The result of an item whose worker process died under it (``why``: how it died)."""
    message = f"map node '{node_id}' item [{index}]: its worker process died ({why})"
    error = TaskFailedError(message, node=f"{node_id}[{index}]", error_type="WorkerProcessDied")
    return ItemResult(error=message, error_type=error.error_type, exception=error)


def run_chunks_in_processes(
    ctx: NodeContext,
    node: ir.MapNode,
    chunks: Sequence[Sequence[int]],
    *,
    context: BaseContext,
    workers: int,
    home: Path,
    retry_base_seconds: float,
    on_chunk: Callable[[int], None],
) -> dict[int, ItemResult]:
    """Run the chunks on a pool of worker processes; store and return their item results.

    ``on_chunk(n)`` is called in this thread as each chunk of ``n`` items finishes (the
    progress bar). A worker that dies (killed, ``os._exit``) fails its chunk's items, which
    ``min_success_ratio`` then judges like any failed item.
    """
    task = ctx.spec.tasks[node.task]
    store = ctx.outputs
    if not isinstance(store, InMemoryOutputStore):
        raise TypeError(f"local map items need an InMemoryOutputStore, not {type(store).__name__}")
    task_json = task.model_dump_json()
    all_items = store.read_map_inputs(node.id, [i for chunk in chunks for i in chunk])
    results: dict[int, ItemResult] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[list[tuple[int, ItemPayload]]], Sequence[int]] = {}
        for chunk in chunks:
            payload = ChunkPayload(
                node=node.id,
                task=task_json,
                items=[(i, {name: lit.to_json() for name, lit in all_items[i].items()}) for i in chunk],
                home=str(home),
                use_cache=ctx.use_cache and ctx.cache is not None,
                overwrite_cache=isinstance(ctx.cache, OverwritingCacheStore),
                retry_base_seconds=retry_base_seconds,
                run=ctx.run_id,
                workflow=ctx.workflow,
            )
            futures[pool.submit(run_chunk, payload)] = chunk
        for future in as_completed(futures):
            chunk = futures[future]
            chunk_results = _chunk_results(node.id, chunk, future)
            if not ctx.cancelled.is_set():
                store.write_map_results(node.id, chunk_results)
            results.update(chunk_results)
            on_chunk(len(chunk))
    return results


def _chunk_results(
    node_id: str, chunk: Sequence[int], future: Future[list[tuple[int, ItemPayload]]]
) -> dict[int, ItemResult]:
    try:
        returned = future.result()
    except BrokenProcessPool as exc:
        return {i: item_died(node_id, i, f"{type(exc).__name__}: {exc}") for i in chunk}
    except Exception as exc:
        # Not an item failure (those come back as data) but the runner itself, e.g. the
        # cache could not be opened: fail the node as the thread path would.
        text = "".join(traceback.format_exception(exc))
        raise TaskFailedError(
            f"map node '{node_id}': a worker process failed: {type(exc).__name__}: {exc}",
            node=node_id,
            error_type=type(exc).__name__,
            traceback_text=text,
        ) from exc
    return {index: item_result(node_id, index, item) for index, item in returned}
