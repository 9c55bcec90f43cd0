"""Map nodes locally: the runtime's prepare / run items / gather, items spread over threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stratoflow import ir
from stratoflow.runtime import NodeContext, gather_map, prepare_map, run_map_items
from stratoflow.runtime._map import cached_map_items

__all__ = ["run_map_node"]

# Items go to threads in chunks: one task submission per item would cost more than a
# trivial item itself, and a chunk per worker keeps every thread busy.
_CHUNKS_PER_WORKER = 4


def run_map_node(
    ctx: NodeContext, node: ir.MapNode, *, max_workers: int, retry_base_seconds: float
) -> tuple[int, int]:
    """Run every item of a map node and store its list output. Returns (items, cache hits).

    Cache hits are served first, in this thread (see ``cached_map_items``); only the
    items left to compute go to the thread pool.
    """
    count = prepare_map(ctx, node.id)
    hits = cached_map_items(ctx, node.id, range(count))
    todo = [i for i in range(count) if i not in hits] if hits else list(range(count))
    workers = max(1, min(node.concurrency or max_workers, max_workers, len(todo) or 1))
    size = max(1, -(-len(todo) // (workers * _CHUNKS_PER_WORKER)))
    chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
    if workers == 1 or len(chunks) <= 1:
        results = [
            run_map_items(ctx, node.id, chunk, retry_base_seconds=retry_base_seconds) for chunk in chunks
        ]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"map-{node.id}") as pool:
            results = list(
                pool.map(
                    lambda chunk: run_map_items(ctx, node.id, chunk, retry_base_seconds=retry_base_seconds),
                    chunks,
                )
            )
    gather_map(ctx, node.id)
    return count, len(hits) + sum(r.cache_hit for batch in results for r in batch.values())
