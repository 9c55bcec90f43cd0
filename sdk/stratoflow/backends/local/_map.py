"""Map nodes locally: items in parallel threads, cached one by one, failures tolerated by ratio."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stratoflow import ir, values
from stratoflow.backends.local._attempts import with_retries
from stratoflow.errors import TaskFailedError
from stratoflow.runtime import NodeContext, node_inputs, run_task
from stratoflow.values import LiteralRef

__all__ = ["run_map_node"]


def _item_inputs(ctx: NodeContext, node: ir.MapNode, task: ir.TaskSpec) -> list[dict[str, LiteralRef]]:
    inputs = node_inputs(ctx, node, task)
    types = {v.name: v.type for v in task.inputs}
    lists = {
        name: values.decode(inputs[name], ir.TypeRef(kind="list", args=(types[name],)), ctx.blobs)
        for name in node.mapped
    }
    lengths = {name: len(items) for name, items in lists.items()}
    if len(set(lengths.values())) > 1:
        raise TaskFailedError(
            f"map node '{node.id}': mapped inputs have different lengths {lengths}",
            node=node.id,
            error_type="ValueError",
        )
    count = next(iter(lengths.values()), 0)
    broadcast = {name: lit for name, lit in inputs.items() if name not in lists}
    return [
        {
            **broadcast,
            **{name: values.encode(items[i], types[name], ctx.blobs) for name, items in lists.items()},
        }
        for i in range(count)
    ]


def run_map_node(
    ctx: NodeContext, node: ir.MapNode, *, max_workers: int, retry_base_seconds: float
) -> tuple[int, int]:
    """Run every item of a map node and store its list output. Returns (items run, cache hits)."""
    task = ctx.spec.tasks[node.task]
    items = _item_inputs(ctx, node, task)
    hits = 0

    def run_item(index: int) -> tuple[dict[str, LiteralRef] | None, bool, TaskFailedError | None]:
        label = f"{node.id}[{index}]"
        try:
            outputs, hit, _ = with_retries(
                ctx,
                lambda c, attempt: run_task(c, task, items[index], label=label, attempt=attempt),
                retries=task.retries,
                timeout=task.timeout_seconds,
                label=label,
                base_seconds=retry_base_seconds,
            )
        except TaskFailedError as exc:
            return None, False, exc
        return outputs, hit, None

    workers = max(1, min(node.concurrency or max_workers, max_workers, len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"map-{node.id}") as pool:
        results = list(pool.map(run_item, range(len(items))))
    failures = [(i, err) for i, (_, _, err) in enumerate(results) if err is not None]
    succeeded = len(items) - len(failures)
    if items and succeeded / len(items) < node.min_success_ratio:
        first = "; ".join(f"[{i}] {err}" for i, err in failures[:3])
        raise TaskFailedError(
            f"map node '{node.id}': {len(failures)} of {len(items)} items failed, more than "
            f"min_success_ratio={node.min_success_ratio} allows; first errors: {first}",
            node=node.id,
            error_type=failures[0][1].error_type if failures else "Exception",
        ) from (failures[0][1] if failures else None)
    item_type = task.outputs[0].type if task.outputs else ir.TypeRef(kind="none")
    decoded: list[Any] = []
    for outputs, hit, _ in results:
        hits += hit
        decoded.append(
            None if outputs is None or not outputs else values.decode(outputs["o0"], item_type, ctx.blobs)
        )
    if node.min_success_ratio < 1.0 and item_type.kind != "optional":
        item_type = ir.TypeRef(kind="optional", args=(item_type,))
    list_type = ir.TypeRef(kind="list", args=(item_type,))
    if not ctx.cancelled.is_set():
        ctx.outputs.write_outputs(node.id, {"o0": values.encode(decoded, list_type, ctx.blobs)})
    return len(items), hits
