"""Map nodes locally: the runtime's prepare / run items / gather, items spread over threads or processes."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.backends.local._progress import NoProgress, RunProgress
from stratoflow.ir import _node_status
from stratoflow.runtime import NodeContext, gather_map, prepare_map, run_map_items
from stratoflow.runtime._map import cached_map_items
from stratoflow.values import ItemResult

if TYPE_CHECKING:
    from stratoflow.backends.local._actor_pool import ActorPool

__all__ = ["run_map_node"]

# Items go to workers in chunks: one submission per item would cost more than a trivial
# item itself, and a few chunks per worker keep every worker busy (and the bar moving).
_CHUNKS_PER_WORKER = 4

# How long a map runs on its calling thread alone before it takes worker threads (_spread_when_slow).
_SPREAD_AFTER_SECONDS = 0.05

RecordItems = Callable[[Mapping[int, ItemResult], _node_status.Target], None]
"""Records map items' outcomes and where they ran (``NodeRecorder.items`` of the node)."""


def _no_record(results: Mapping[int, ItemResult], target: _node_status.Target) -> None:
    return None


def _chunks(todo: Sequence[int], workers: int) -> list[Sequence[int]]:
    size = max(1, -(-len(todo) // (workers * _CHUNKS_PER_WORKER)))
    return [todo[start : start + size] for start in range(0, len(todo), size)]


def _on_threads(
    ctx: NodeContext,
    node: ir.MapNode,
    todo: Sequence[int],
    *,
    workers: int,
    retry_base_seconds: float,
    progress: RunProgress,
    record: RecordItems,
) -> list[dict[int, ItemResult]]:
    workers = max(1, min(workers, len(todo) or 1))

    def run_chunk(chunk: Sequence[int]) -> dict[int, ItemResult]:
        results = run_map_items(ctx, node.id, chunk, retry_base_seconds=retry_base_seconds)
        record(results, "local-thread")  # chunk by chunk: a polling reader sees the map move
        progress.map_advanced(node.id, len(chunk))
        return results

    chunks = _chunks(todo, workers)
    if workers == 1 or len(chunks) <= 1:
        return [run_chunk(chunk) for chunk in chunks]
    return _spread_when_slow(chunks, run_chunk, workers=workers, prefix=f"map-{node.id}")


def _spread_when_slow(
    chunks: Sequence[Sequence[int]],
    run_chunk: Callable[[Sequence[int]], dict[int, ItemResult]],
    *,
    workers: int,
    prefix: str,
) -> list[dict[int, ItemResult]]:
    """Run ``chunks`` on this thread; a map still running after :data:`_SPREAD_AFTER_SECONDS` takes
    ``workers - 1`` threads more, every thread taking the next chunk left.

    Most maps' items are quick Python: a thousand of them are done before worker threads would
    have started, and threads would only take turns at the GIL (a third more time, measured). A
    map of slow or blocking items (I/O, sleeps, native code) gets its threads after the grace.
    """
    pending = deque(chunks)  # popleft is atomic: every chunk goes to exactly one thread

    def drain() -> list[dict[int, ItemResult]]:
        mine: list[dict[int, ItemResult]] = []
        while True:
            try:
                chunk = pending.popleft()
            except IndexError:
                return mine
            mine.append(run_chunk(chunk))

    # Plain threads, not a ThreadPoolExecutor: a map that ends within the grace starts none, and
    # loading concurrent.futures (with queue and logging) was a few per cent of a short run.
    done_by_helpers: list[dict[int, ItemResult]] = []
    errors: list[BaseException] = []
    helpers: list[threading.Thread] = []

    def helper() -> None:
        try:
            done_by_helpers.extend(drain())  # list.extend is atomic
        except BaseException as exc:  # noqa: BLE001 - raised on the calling thread, below
            errors.append(exc)

    def spread() -> None:
        for number in range(workers - 1):
            thread = threading.Thread(target=helper, name=f"{prefix}_{number}", daemon=True)
            helpers.append(thread)
            thread.start()

    timer = threading.Timer(_SPREAD_AFTER_SECONDS, spread)
    timer.daemon = True
    timer.start()
    try:
        done = drain()
    finally:
        timer.cancel()
        timer.join()  # no helper starts after this: ``helpers`` is complete
        for thread in helpers:
            thread.join()
    if errors:
        raise errors[0]
    return done + done_by_helpers


def _process_workers(node: ir.MapNode, max_workers: int, todo: int) -> int:
    # More processes than cores only adds start-up and switching for CPU-bound items.
    cores = os.cpu_count() or 1
    return max(1, min(node.concurrency or cores, cores, max_workers, todo))


def _on_processes(
    ctx: NodeContext,
    node: ir.MapNode,
    todo: Sequence[int],
    *,
    max_workers: int,
    retry_base_seconds: float,
    home: Path,
    progress: RunProgress,
) -> list[dict[int, ItemResult]] | None:
    """The items on forked worker processes (``map_task(processes=True)``); None where fork is unsafe."""
    # multiprocessing and its pools load only for maps that ask for processes.
    import logging  # noqa: PLC0415 - multiprocessing loads it anyway

    from stratoflow.backends.local._map_processes import fork_context, run_chunks_in_processes  # noqa: PLC0415

    context = fork_context()
    if context is None:
        logging.getLogger("stratoflow.local").warning(
            "map node '%s' asked for processes, but this platform cannot fork them safely; "
            "its items run on threads instead",
            node.id,
        )
        return None
    workers = _process_workers(node, max_workers, len(todo))
    return [
        run_chunks_in_processes(
            ctx,
            node,
            _chunks(todo, workers),
            context=context,
            workers=workers,
            home=home,
            retry_base_seconds=retry_base_seconds,
            on_chunk=lambda n: progress.map_advanced(node.id, n),
        )
    ]


def _on_actors(
    ctx: NodeContext,
    node: ir.MapNode,
    todo: Sequence[int],
    actors: ActorPool,
    *,
    retry_base_seconds: float,
    progress: RunProgress,
) -> list[dict[int, ItemResult]]:
    from stratoflow.backends.local._actors import run_actor_items  # noqa: PLC0415 - actor runs only

    actor = ctx.spec.tasks[node.task].actor
    assert actor is not None  # noqa: S101 - the caller checked
    # ``concurrency`` still caps the items in flight, never above the environment's workers.
    parallel = min(actor.replica_count, node.concurrency or actor.replica_count)
    return [
        run_actor_items(
            ctx,
            node,
            actors,
            _chunks(todo, parallel),
            parallel=parallel,
            retry_base_seconds=retry_base_seconds,
            on_chunk=lambda n: progress.map_advanced(node.id, n),
        )
    ]


def run_map_node(
    ctx: NodeContext,
    node: ir.MapNode,
    *,
    max_workers: int,
    retry_base_seconds: float,
    home: Path,
    progress: RunProgress | None = None,
    actors: ActorPool | None = None,
    record: RecordItems | None = None,
) -> tuple[int, int]:
    """Run every item of a map node and store its list output. Returns (items, cache hits).

    Cache hits are served first, in this thread (see ``cached_map_items``); only the
    items left to compute go to the workers: threads, or (``map_task(processes=True)``)
    worker processes sharing the run's ``home`` for blobs and cache, or, for an actor task,
    its environment's worker processes in ``actors`` (shared with the run's other nodes).
    ``record`` gets every item's outcome (the run's records).
    """
    progress = progress or NoProgress()
    record = record or _no_record
    count = prepare_map(ctx, node.id)
    progress.map_started(node.id, count)
    try:
        hits = cached_map_items(ctx, node.id, range(count))
        record(hits, "none")
        progress.map_advanced(node.id, len(hits))
        todo = [i for i in range(count) if i not in hits] if hits else list(range(count))
        done: list[dict[int, ItemResult]] | None = None
        if todo and actors is not None and ctx.spec.tasks[node.task].actor is not None:
            done = _on_actors(
                ctx, node, todo, actors, retry_base_seconds=retry_base_seconds, progress=progress
            )
            record(done[0], "actor")
        elif todo and node.processes:
            done = _on_processes(
                ctx,
                node,
                todo,
                max_workers=max_workers,
                retry_base_seconds=retry_base_seconds,
                home=home,
                progress=progress,
            )
            if done is not None:
                record(done[0], "local-process")
        if done is None:
            workers = max(1, min(node.concurrency or max_workers, max_workers))
            done = _on_threads(
                ctx,
                node,
                todo,
                workers=workers,
                retry_base_seconds=retry_base_seconds,
                progress=progress,
                record=record,
            )
        gather_map(ctx, node.id)
    finally:
        progress.map_finished(node.id)
    return count, len(hits) + sum(r.cache_hit for batch in done for r in batch.values())
