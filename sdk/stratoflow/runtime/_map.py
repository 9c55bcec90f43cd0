"""Map nodes, in three steps every backend shares: prepare, run items, gather.

prepare: resolve the node's inputs, split the mapped lists into one set of item input
    literals per index, and store them (items never pass through a state payload).
run items: run the task on some indices, each item cached on its own, each with the
    task's retries; an item's failure is recorded, not raised, so one bad item never
    fails its whole batch.
gather: assemble the typed output list in item order (failed items are ``None``) and
    fail the node if fewer than ``min_success_ratio`` of the items succeeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from stratoflow import ir, values
from stratoflow.errors import TaskFailedError
from stratoflow.runtime._retry import with_attempts
from stratoflow.runtime._runner import NodeContext, node_inputs, run_task
from stratoflow.values import ItemResult, LiteralRef

__all__ = [
    "ItemResult",
    "MapStore",
    "cached_map_items",
    "gather_map",
    "map_output_type",
    "prepare_map",
    "run_map_item",
    "run_map_items",
]


class MapStore(Protocol):
    """Where a map node keeps its item inputs and item results (memory locally, S3 on AWS)."""

    def write_map_inputs(self, node_id: str, items: Sequence[dict[str, LiteralRef]]) -> None: ...

    def read_map_inputs(self, node_id: str, indices: Sequence[int]) -> dict[int, dict[str, LiteralRef]]: ...

    def write_map_results(self, node_id: str, results: dict[int, ItemResult]) -> None: ...

    def read_map_results(self, node_id: str, count: int) -> dict[int, ItemResult]: ...

    def map_count(self, node_id: str) -> int: ...


def map_output_type(node: ir.MapNode, task: ir.TaskSpec) -> ir.TypeRef:
    """``list[T]``, or ``list[Optional[T]]`` when items may fail."""
    item = task.outputs[0].type if task.outputs else ir.TypeRef(kind="none")
    if node.min_success_ratio < 1.0 and item.kind != "optional":
        item = ir.TypeRef(kind="optional", args=(item,))
    return ir.TypeRef(kind="list", args=(item,))


def _store(ctx: NodeContext) -> MapStore:
    store = ctx.outputs
    if not hasattr(store, "write_map_inputs"):
        raise TypeError(f"{type(store).__name__} cannot hold map items")
    return store  # type: ignore[return-value]


def _map_node(ctx: NodeContext, node_id: str) -> tuple[ir.MapNode, ir.TaskSpec]:
    node = ctx.spec.node(node_id)
    if not isinstance(node, ir.MapNode):
        raise TypeError(f"node '{node_id}' is not a map node")
    return node, ctx.spec.tasks[node.task]


def prepare_map(ctx: NodeContext, node_id: str) -> int:
    """Split the mapped inputs into per-item input literals and store them; returns the item count."""
    node, task = _map_node(ctx, node_id)
    inputs = node_inputs(ctx, node, task)
    types = {v.name: v.type for v in task.inputs}
    lists = {
        name: values.decode(inputs[name], ir.TypeRef(kind="list", args=(types[name],)), ctx.blobs)
        for name in node.mapped
    }
    lengths = {name: len(items) for name, items in lists.items()}
    if len(set(lengths.values())) > 1:
        raise TaskFailedError(
            f"map node '{node_id}': mapped inputs have different lengths {lengths}",
            node=node_id,
            error_type="ValueError",
        )
    count = next(iter(lengths.values()), 0)
    broadcast = {name: lit for name, lit in inputs.items() if name not in lists}
    encoded = {
        name: [values.encode(item, types[name], ctx.blobs) for item in items] for name, items in lists.items()
    }
    _store(ctx).write_map_inputs(
        node_id,
        [{**broadcast, **{name: column[i] for name, column in encoded.items()}} for i in range(count)],
    )
    return count


def run_map_item(
    ctx: NodeContext, task: ir.TaskSpec, inputs: dict[str, LiteralRef], label: str, retry_base_seconds: float
) -> ItemResult:
    """Run one item with the task's retries; its failure is returned, not raised.

    Public so that a worker process of the local backend runs items with exactly these
    semantics (cache first, retries with full jitter) without a copy drifting from it.
    """
    try:
        outputs, hit, _ = with_attempts(
            lambda attempt: run_task(ctx, task, inputs, label=label, attempt=attempt),
            retries=task.retries,
            base_seconds=retry_base_seconds,
        )
    except TaskFailedError as exc:
        return ItemResult(error=str(exc), error_type=exc.error_type, exception=exc)
    return ItemResult(output=outputs.get("o0"), cache_hit=hit)


def run_map_items(
    ctx: NodeContext, node_id: str, indices: Sequence[int], *, retry_base_seconds: float = 1.0
) -> dict[int, ItemResult]:
    """Run the items at ``indices`` (a batch) and store their results; never raises for an item."""
    _, task = _map_node(ctx, node_id)
    store = _store(ctx)
    inputs = store.read_map_inputs(node_id, indices)
    results = {i: run_map_item(ctx, task, inputs[i], f"{node_id}[{i}]", retry_base_seconds) for i in indices}
    if not ctx.cancelled.is_set():
        store.write_map_results(node_id, results)
    return results


_PROBE_MISSES = 32


def cached_map_items(ctx: NodeContext, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
    """Look items up in the cache, without running any; store and return the hits.

    A hit is a few microseconds of Python. Served from one thread, a fully cached map of
    10,000 items takes two thirds of the time it takes spread over a thread pool, where
    every cache read hands the GIL to another thread. The misses are left to
    :func:`run_map_items`, which looks them up once more, so a mostly cold cache stops the
    look-ups early (after ``_PROBE_MISSES`` misses outnumbering the hits): the extra reads
    stay bounded instead of doubling a cold map's cache traffic.
    """
    _, task = _map_node(ctx, node_id)
    cache = ctx.node_cache(task)
    if not cache.enabled:
        return {}
    store = _store(ctx)
    inputs = store.read_map_inputs(node_id, indices)
    hits: dict[int, ItemResult] = {}
    misses = 0
    for i in indices:
        outputs = cache.lookup(cache.key(inputs[i]))
        if outputs is not None:
            hits[i] = ItemResult(output=outputs.get("o0"), cache_hit=True)
            continue
        misses += 1
        if misses >= _PROBE_MISSES and misses > len(hits):
            break
    if hits and not ctx.cancelled.is_set():
        store.write_map_results(node_id, hits)
    return hits


def _failed(result: ItemResult | None) -> bool:
    return result is None or result.error is not None


def gather_map(ctx: NodeContext, node_id: str) -> dict[str, LiteralRef]:
    """Assemble the map's list output in item order and store it as the node's outputs."""
    node, task = _map_node(ctx, node_id)
    store = _store(ctx)
    count = store.map_count(node_id)
    results = store.read_map_results(node_id, count)
    item_type = task.outputs[0].type if task.outputs else ir.TypeRef(kind="none")
    failures = [(i, results.get(i)) for i in range(count) if _failed(results.get(i))]
    succeeded = count - len(failures)
    if count and succeeded / count < node.min_success_ratio:
        shown = "; ".join(
            f"[{i}] {r.error if r else 'no result (its batch failed)'}" for i, r in failures[:3]
        )
        first = failures[0][1]
        raise TaskFailedError(
            f"map node '{node_id}': {len(failures)} of {count} items failed, more than "
            f"min_success_ratio={node.min_success_ratio:g} allows; first errors: {shown}",
            node=node_id,
            error_type=(first.error_type if first and first.error_type else "MapItemsFailed"),
        ) from (first.exception if first else None)
    decoded: list[Any] = []
    for i in range(count):
        result = results.get(i)
        if result is None or result.output is None:
            decoded.append(None)
        else:
            decoded.append(values.decode(result.output, item_type, ctx.blobs))
    outputs = {"o0": values.encode(decoded, map_output_type(node, task), ctx.blobs)} if task.outputs else {}
    ctx.outputs.write_outputs(node_id, outputs)
    return outputs
