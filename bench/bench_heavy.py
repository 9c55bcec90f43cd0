"""Benchmark: a map over a Fargate task vs a Lambda map, from the compiled ASL (prints only).

Run with ``.venv/bin/python bench/bench_heavy.py``. Prices are us-east-1 list prices,
compute (Lambda GB-seconds, Fargate vCPU/GB-hours) excluded:

- Standard: $0.025 per 1,000 state transitions. The parent pays its own states (prepare,
  Map, gather, the restore Pass) plus one transition per child execution; a STANDARD child
  pays one per state it enters (one ``ecs:runTask.sync`` state when nothing is interrupted).
- ``ecs:runTask.sync`` waits through an EventBridge rule on ECS's own events (free).
- S3: $0.005 per 1,000 PUTs, $0.0004 per 1,000 GETs. A container batch reads its inputs
  (one GET per 1,000-item chunk it touches), checks for an earlier attempt's results (one
  GET) and rewrites its results object at most every ``CHECKPOINT_SECONDS`` while it runs
  and once when it stops (the checkpoint that keeps a reclaimed batch's finished items), so
  the PUTs depend on how long an item takes: printed for 0.1 s, 1 s and 10 s per item.
- The Lambda map's fees are bench_map's (EXPRESS children, one runner call per batch).

The default container batch comes from the run-time rule (``runtime._map.container_batching``:
the compiled Map reads it through ``ItemBatcher.MaxItemsPerBatchPath``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

try:
    import stratoflow  # noqa: F401
except ImportError:  # not installed in the venv yet: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_map import MILLION, STANDARD_PER_TRANSITION, bump_all, fees_per_million_items

from stratoflow import Resources, ir, map_task, task, workflow
from stratoflow.backends import asl
from stratoflow.lower import lower
from stratoflow.runtime._map import CHECKPOINT_SECONDS, container_batching

S3_PER_PUT = 0.005 / 1_000
S3_PER_GET = 0.0004 / 1_000
MAP_CHUNK = 1_000  # item inputs per S3 object (stratoflow.aws._s3.MAP_CHUNK)


@task(requests=Resources(mem="12Gi"))
def predict(x: int) -> int:
    return x + 1


@workflow
def predict_all(xs: list[int]) -> list[int]:
    out: list[int] = map_task(predict)(x=xs)
    return out


def _map_state(definition: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in definition["States"].values() if s["Type"] == "Map")


def checkpoint_puts(items: int, size: int, item_seconds: float) -> int:
    """S3 PUTs of a container map's checkpoints: one per CHECKPOINT_SECONDS of a batch, plus its last."""
    batches = math.ceil(items / size)
    per_batch = min(size, 1 + math.floor(size * item_seconds / CHECKPOINT_SECONDS))
    return batches * per_batch


def container_fees(
    definition: dict[str, Any], spec: ir.WorkflowSpec, items: int, item_seconds: float = 1.0
) -> dict[str, float]:
    """Orchestration fees of one run over ``items`` items of the compiled container map."""
    map_state = _map_state(definition)
    assert map_state["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"  # noqa: S101
    (node,) = (n for n in spec.nodes if isinstance(n, ir.MapNode))
    size, _ = container_batching(items, node, spec.tasks[node.task])
    children = math.ceil(items / size)
    child_start = map_state["ItemProcessor"]["StartAt"]
    # The happy path enters the batch state only; Spot fallbacks add parse, choice, on-demand.
    happy_states = 1 if child_start in map_state["ItemProcessor"]["States"] else 0
    parent_states = len(definition["States"])
    chunks_per_batch = math.ceil(size / MAP_CHUNK) + 1
    return {
        "parent transitions": (parent_states - 1 + children) * STANDARD_PER_TRANSITION,
        "child transitions": children * happy_states * STANDARD_PER_TRANSITION,
        "lambda requests": 2 * 0.20 / MILLION,  # prepare and gather
        "s3 checkpoint puts": checkpoint_puts(items, size, item_seconds) * S3_PER_PUT,
        "s3 gets": children * (chunks_per_batch + 1) * S3_PER_GET,
    }


def main() -> None:
    spec = lower(predict_all)
    definition = asl.compile_workflow(spec).definition
    (node,) = (n for n in spec.nodes if isinstance(n, ir.MapNode))
    task_spec = spec.tasks[node.task]
    size, _ = container_batching(MILLION, node, task_spec)
    print(f"AWS orchestration fees per 1,000,000 items, compute excluded (default container batch: {size})")
    fargate = container_fees(definition, spec, MILLION)
    lambda_fees = fees_per_million_items(asl.compile_workflow(lower(bump_all)).definition)
    for name, value in fargate.items():
        print(f"  fargate {name:<20} ${value:9.4f}")
    print(f"  fargate {'total':<20} ${sum(fargate.values()):9.4f}")
    without_s3 = sum(v for k, v in fargate.items() if not k.startswith("s3"))
    print(f"  fargate {'(without S3 requests)':<20} ${without_s3:9.4f}")
    print(f"  lambda  {'total':<20} ${sum(lambda_fees.values()):9.4f}")
    for item_seconds in (0.1, 1.0, 10.0):
        puts = checkpoint_puts(MILLION, size, item_seconds)
        print(f"  checkpoint PUTs at {item_seconds:g} s per item: {puts:,} (${puts * S3_PER_PUT:.4f})")
    print("container starts per 1,000 items at the default batch size (concurrency unset / 10)")
    for items in (100, 1_000, 10_000, 100_000, MILLION):
        row = []
        for concurrency in (None, 10):
            shaped = node.model_copy(update={"concurrency": concurrency})
            batch, _ = container_batching(items, shaped, task_spec)
            starts = math.ceil(items / batch)
            row.append(f"batch {batch:>3}: {starts * 1000 / items:6.1f}")
        print(f"  {items:>9,} items   " + "   ".join(row))


if __name__ == "__main__":
    main()
