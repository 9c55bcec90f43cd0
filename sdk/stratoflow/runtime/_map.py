"""Map nodes, in three steps every backend shares: prepare, run items, gather.

prepare: resolve the node's inputs, split the mapped lists into one set of item input
    literals per index, and store them (items never pass through a state payload).
run items: run the task on some indices, each item cached on its own, each with the
    task's retries; an item's failure is recorded, not raised, so one bad item never
    fails its whole batch.
gather: assemble the typed output list in item order (failed items are ``None``) and
    fail the node if fewer than ``min_success_ratio`` of the items succeeded.

A batch of a task that runs in a container on AWS (Fargate, Batch, their Spot forms)
checkpoints: it stores its results every few seconds and whenever it stops (at its end, on an
error, on the SIGTERM a Spot reclaim sends two minutes ahead), and a re-run of the same batch
(a Spot retry, the on-demand fallback) starts by reading them and skips the items already
finished, so an interrupted container's finished items are not called again, cached or not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Final, Protocol

from stratoflow import ir, routing, values
from stratoflow.errors import TaskFailedError
from stratoflow.runtime._batching import default_batch_size
from stratoflow.runtime._recovery import recovered_items
from stratoflow.runtime._retry import with_attempts
from stratoflow.runtime._runner import NodeContext, node_inputs, run_task
from stratoflow.values import ItemResult, LiteralRef

__all__ = [
    "CONTAINER_START_ALLOWANCE",
    "DEFAULT_CONTAINER_WIDTH",
    "MAX_BATCH_SECONDS",
    "MIN_CONTAINER_BATCH",
    "ItemResult",
    "MapStore",
    "cached_map_items",
    "container_batching",
    "gather_map",
    "map_batching",
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

    def read_map_batch(self, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
        """The results a previous run of this batch (same indices) stored."""
        ...

    def map_count(self, node_id: str) -> int: ...


def map_output_type(node: ir.MapNode, task: ir.TaskSpec) -> ir.TypeRef:
    """``list[T]``, or ``list[Optional[T]]`` when items may fail."""
    item = task.outputs[0].type if task.outputs else ir.TypeRef.trusted(kind="none")
    if node.min_success_ratio < 1.0 and item.kind != "optional":
        item = ir.TypeRef.trusted(kind="optional", args=(item,))
    return ir.TypeRef.trusted(kind="list", args=(item,))


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
        name: values.decode(inputs[name], ir.TypeRef.trusted(kind="list", args=(types[name],)), ctx.blobs)
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
    started = time.time()
    attempts = [0]

    def attempt_fn(attempt: int) -> tuple[dict[str, LiteralRef], bool, str | None]:
        attempts[0] = attempt
        return run_task(ctx, task, inputs, label=label, attempt=attempt)

    try:
        outputs, hit, key = with_attempts(attempt_fn, retries=task.retries, base_seconds=retry_base_seconds)
    except TaskFailedError as exc:
        return ItemResult(
            error=str(exc),
            error_type=exc.error_type,
            exception=exc,
            attempts=attempts[0],
            started=started,
            finished=time.time(),
        )
    return ItemResult(
        output=outputs.get("o0"),
        cache_hit=hit,
        attempts=0 if hit else attempts[0],
        started=started,
        finished=time.time(),
        cache_key=key,
    )


def runs_in_container(task: ir.TaskSpec) -> bool:
    """Whether ``task`` runs in a container on AWS (a task no target fits runs only locally)."""
    try:
        target = routing.route_task(task).target
    except routing.RoutingError:
        return False
    return target != "lambda"


def run_map_items(
    ctx: NodeContext, node_id: str, indices: Sequence[int], *, retry_base_seconds: float = 1.0
) -> dict[int, ItemResult]:
    """Run the items at ``indices`` (a batch) and store their results; never raises for an item.

    A container task's batch checkpoints (at most every :data:`CHECKPOINT_SECONDS`, and
    whenever it ends, early or not) and skips the items an earlier run of the same batch
    finished (module docstring). A Lambda batch stores once, when it ends.
    """
    _, task = _map_node(ctx, node_id)
    store = _store(ctx)
    order = sorted(indices)  # the batch's results object is named after its first index
    checkpoint = runs_in_container(task)
    results = store.read_map_batch(node_id, order) if checkpoint else {}
    stored = len(results)
    # A recovered run's items that succeeded before: stored with this batch, not run again.
    results.update(recovered_items(ctx.recovery, node_id, [i for i in order if i not in results]))
    todo = [i for i in order if i not in results]
    inputs = store.read_map_inputs(node_id, todo)
    last_write = time.monotonic()

    def store_results() -> None:
        nonlocal stored, last_write
        if len(results) > stored and not ctx.cancelled.is_set():
            store.write_map_results(node_id, {j: results[j] for j in order if j in results})
            stored, last_write = len(results), time.monotonic()

    try:
        for i in todo:
            results[i] = run_map_item(ctx, task, inputs[i], f"{node_id}[{i}]", retry_base_seconds)
            if checkpoint and time.monotonic() - last_write >= CHECKPOINT_SECONDS:
                store_results()
    finally:
        # Also when the batch stops early: a Spot reclaim's SIGTERM (the container entrypoint
        # turns it into SystemExit) or a crash keeps the items finished so far.
        store_results()
    return results


CHECKPOINT_SECONDS: Final = 10.0
"""A container batch stores its results at most this often while it runs (and when it stops):
a write after every item would cost one S3 PUT per item, $5 per million items."""

CONTAINER_START_ALLOWANCE: Final = 600
"""Seconds a container batch's limit allows for start-up (capacity, image pull, boot)."""

DEFAULT_CONTAINER_WIDTH: Final = 100
"""Containers a container map runs at once when ``concurrency`` is not set."""

MIN_CONTAINER_BATCH: Final = 10
"""Fewest items per container batch by default: start-up (tens of seconds) is amortised."""

MAX_BATCH_SECONDS: Final = 8 * 3600
"""Longest worst case of one container batch the default accepts (a declared ``timeout``)."""


def container_batching(count: int, node: ir.MapNode, task: ir.TaskSpec) -> tuple[int, int]:
    """(items per batch, the batch's limit in seconds or 0) of a map over a container task.

    The rule (``batch_size=`` overrides the size; the limit still follows it):

    1. spread the items over ``concurrency`` containers (100 when unset) in one wave:
       ``ceil(count / width)`` items each;
    2. but at least 10 items per container, so that start-up (tens of seconds on Fargate,
       minutes on a cold Batch compute environment) is amortised;
    3. with a declared ``timeout``, at most ``8 h / (timeout * (retries + 1))`` items, so
       a batch's worst case (every item timing out on every attempt) stays within 8 hours;
    4. at most ``protocol.MAX_CONTAINER_BATCH`` (500; the indices travel in the container's
       environment, and ECS caps a task's overrides at 8 KiB), and at most ``count``.

    ``timeout`` stays a per-item bound: the batch state's ``TimeoutSeconds`` is the batch's
    size times ``timeout * (retries + 1)``, plus 600 s of start-up; 0 (no limit) without one.

    Example:
        >>> container_batching(100, node, task)  # doctest: +SKIP
        (10, 0)
    """
    from stratoflow.ir import protocol  # noqa: PLC0415 - AWS only; a local run never loads it

    worst_item = (task.timeout_seconds or 0) * (task.retries + 1)
    if node.batch_size is not None:
        size = node.batch_size
    else:
        width = node.concurrency or DEFAULT_CONTAINER_WIDTH
        size = max(MIN_CONTAINER_BATCH, math.ceil(count / width))
        if worst_item:
            size = min(size, max(1, MAX_BATCH_SECONDS // worst_item))
        size = min(size, protocol.MAX_CONTAINER_BATCH, max(count, 1))
    limit = size * worst_item + CONTAINER_START_ALLOWANCE if worst_item else 0
    return size, limit


def map_batching(ctx: NodeContext, node_id: str, count: int) -> tuple[int, int]:
    """What ``map_prepare`` returns: :func:`container_batching` of a node of ``ctx``'s workflow, or
    for a task on Lambda the compiler's batch rule (``default_batch_size``) and no limit: a
    dynamic graph's map reads it at run time, a static Lambda map has it literal."""
    node, task = _map_node(ctx, node_id)
    if not runs_in_container(task):
        return default_batch_size(node, task), 0
    return container_batching(count, node, task)


_PROBE_MISSES = 32
_LOOKUP_SLICE = 100  # keys read at once; a cold cache stops after the first slice


def cached_map_items(ctx: NodeContext, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
    """Look items up in the cache, without running any; store and return the hits.

    A hit is a few microseconds of Python. Served from one thread, a fully cached map of
    10,000 items takes two thirds of the time it takes spread over a thread pool, where
    every cache read hands the GIL to another thread. The misses are left to
    :func:`run_map_items`, which looks them up once more, so a mostly cold cache stops the
    look-ups early (after a slice of ``_LOOKUP_SLICE`` keys with ``_PROBE_MISSES`` misses
    outnumbering the hits): the extra reads stay bounded instead of doubling a cold map's
    cache traffic.
    """
    _, task = _map_node(ctx, node_id)
    store = _store(ctx)
    recovered = recovered_items(ctx.recovery, node_id, indices)  # a recovered run's succeeded items
    if recovered and not ctx.cancelled.is_set():
        store.write_map_results(node_id, recovered)
    cache = ctx.node_cache(task)
    if not cache.enabled:
        return recovered
    indices = [i for i in indices if i not in recovered]
    inputs = store.read_map_inputs(node_id, indices)
    hits: dict[int, ItemResult] = dict(recovered)
    misses = 0
    for start in range(0, len(indices), _LOOKUP_SLICE):
        keys = {i: cache.key(inputs[i]) for i in indices[start : start + _LOOKUP_SLICE]}
        found = cache.lookup_many([key for key in keys.values() if key is not None])
        for i, key in keys.items():
            outputs = found.get(key) if key is not None else None
            if outputs is None:
                misses += 1
            else:
                hits[i] = ItemResult(output=outputs.get("o0"), cache_hit=True, cache_key=key)
        if misses >= _PROBE_MISSES and misses > len(hits) - len(recovered):
            break
    cached = {i: hit for i, hit in hits.items() if i not in recovered}
    if cached and not ctx.cancelled.is_set():
        store.write_map_results(node_id, cached)
    return hits


def _failed(result: ItemResult | None) -> bool:
    return result is None or result.error is not None


def gather_map(ctx: NodeContext, node_id: str) -> dict[str, LiteralRef]:
    """Assemble the map's list output in item order and store it as the node's outputs."""
    node, task = _map_node(ctx, node_id)
    store = _store(ctx)
    count = store.map_count(node_id)
    results = store.read_map_results(node_id, count)
    item_type = task.outputs[0].type if task.outputs else ir.TypeRef.trusted(kind="none")
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
