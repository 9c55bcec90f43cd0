"""Running a ``@dynamic`` node locally: trace its body, run the sub-workflow on a nested
scheduler (same blobs and cache, its own output store), then store its outputs."""

from __future__ import annotations

from collections.abc import Callable

from stratoflow import ir
from stratoflow.backends.local._progress import RunProgress
from stratoflow.runtime import InMemoryOutputStore, NodeContext, finish_dynamic, plan_dynamic, sub_run_id

__all__ = ["SubProgress", "run_dynamic_node"]


class SubProgress:
    """A nested run's progress: its map bars show, its nodes do not move the workflow bar."""

    def __init__(self, parent: RunProgress) -> None:
        self._parent = parent

    def node_done(self, node_id: str) -> None:
        return None

    def map_started(self, node_id: str, total: int) -> None:
        self._parent.map_started(node_id, total)

    def map_advanced(self, node_id: str, items: int) -> None:
        self._parent.map_advanced(node_id, items)

    def map_finished(self, node_id: str) -> None:
        self._parent.map_finished(node_id)

    def stop(self) -> None:
        return None


def run_dynamic_node(
    ctx: NodeContext, node: ir.TaskNode, run_sub: Callable[[NodeContext], None], *, attempt: int = 1
) -> bool:
    """Run one dynamic node; ``run_sub`` executes a sub-run's context. Returns whether it was a
    cache hit (of the dynamic node itself: its sub-nodes cache on their own)."""
    plan = plan_dynamic(ctx, node.id, attempt=attempt)
    if plan.cached is not None:
        if not ctx.cancelled.is_set():
            ctx.outputs.write_outputs(node.id, plan.cached)
        return True
    assert plan.spec is not None  # noqa: S101 - a miss always carries the sub-workflow
    sub = NodeContext(
        run_id=sub_run_id(ctx.run_id, node.id),
        spec=plan.spec,
        blobs=ctx.blobs,
        outputs=InMemoryOutputStore(dict(plan.inputs)),
        cache=ctx.cache,
        use_cache=ctx.use_cache,
        storage=ctx.storage,
        cancelled=ctx.cancelled,
        workflow=ctx.workflow,
    )
    run_sub(sub)
    finish_dynamic(ctx, node.id, sub, key=plan.key)
    return False
