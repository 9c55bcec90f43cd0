"""Benchmark: 200 trivial tasks as actor tasks vs plain Fargate tasks, on emulated AWS (prints only).

Both workflows have the same shape: a ``map_task`` over 150 items, a chain of 49 tasks, and one
task that joins them (200 task runs), all 0.25 vCPU / 0.5 GB. The actor one runs on an
``ActorEnvironment(replica_count=2)``; the plain one on one Fargate container per task (a map
batch per container, as ``runtime.container_batching`` decides). Printed per variant:

- container starts, counted in the emulator (ECS RunTask of a worker, or of a task);
- state transitions (``*StateEntered`` events of the run and of its map children);
- estimated cost: Fargate compute + Step Functions transitions. A Fargate task is billed per
  second from the start of its image pull to its end, with a one-minute minimum; a start is
  taken as :data:`START_SECONDS` (image pull and boot) and a trivial task as
  :data:`TASK_SECONDS` of work; an actor worker also bills its ``ttl_seconds`` of idling before
  it exits. Emulated wall times say nothing about AWS and are printed only as a sanity check.

Prices are the named constants below (us-east-1 list prices, each with its source page);
Distributed Map children are counted as the states their happy path enters (moto does not list
them), each child execution's start included.

Run: .venv/bin/python bench/bench_actors_emulated.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stratoflow import ActorEnvironment, Resources, ir, map_task, task, workflow  # noqa: E402
from stratoflow.backends import asl  # noqa: E402
from stratoflow.ir import protocol  # noqa: E402
from stratoflow.lower import lower  # noqa: E402
from stratoflow.runtime._map import container_batching  # noqa: E402
from stratoflow.testing._sandbox import Sandbox  # noqa: E402

FARGATE_PER_VCPU_SECOND = 0.04048 / 3600
"""$ per vCPU-second, Fargate Linux/x86_64 on-demand, us-east-1 (aws.amazon.com/fargate/pricing)."""
FARGATE_PER_GB_SECOND = 0.004445 / 3600
"""$ per GB-second of memory, same source."""
FARGATE_MINIMUM_SECONDS = 60
"""Fargate bills Linux tasks per second with a one-minute minimum (same source)."""
STANDARD_PER_TRANSITION = 0.025 / 1_000
"""$ per Standard state transition (aws.amazon.com/step-functions/pricing)."""
START_SECONDS = 40.0
"""Assumed billed start-up of a Fargate task (image pull and container boot): an estimate."""
TASK_SECONDS = 0.05
"""Assumed work of one trivial task once its process runs."""
VCPU, MEMORY_GB = 0.25, 0.5
ITEMS, CHAIN = 150, 49

workers = ActorEnvironment(
    name="bench-actors", replica_count=2, ttl_seconds=60, requests=Resources(cpu=VCPU, mem="512Mi")
)


@workers.task
def actor_score(x: int) -> int:
    return 3 * x


@workers.task
def actor_add(total: int, x: int) -> int:
    return total + x


@workers.task
def actor_join(scored: list[int], total: int) -> int:
    return sum(scored) + total


@task(requests=Resources(cpu=VCPU, mem="512Mi"), compute="fargate")
def plain_score(x: int) -> int:
    return 3 * x


@task(requests=Resources(cpu=VCPU, mem="512Mi"), compute="fargate")
def plain_add(total: int, x: int) -> int:
    return total + x


@task(requests=Resources(cpu=VCPU, mem="512Mi"), compute="fargate")
def plain_join(scored: list[int], total: int) -> int:
    return sum(scored) + total


@workflow
def as_actors(xs: list[int]) -> int:
    scored: list[int] = map_task(actor_score)(x=xs)
    total = 0
    for i in range(CHAIN):
        total = actor_add(total=total, x=i)
    return actor_join(scored=scored, total=total)


@workflow
def as_fargate(xs: list[int]) -> int:
    scored: list[int] = map_task(plain_score)(x=xs)
    total = 0
    for i in range(CHAIN):
        total = plain_add(total=total, x=i)
    return plain_join(scored=scored, total=total)


def _transitions(sandbox: Sandbox, arn: str, spec: ir.WorkflowSpec) -> int:
    """State transitions of the run, plus its map children's: moto keeps Distributed Map children
    out of ListExecutions, so each child is counted as the states its happy path enters."""
    count = sum(1 for e in sandbox.aws.wait(arn).events if str(e["type"]).endswith("StateEntered"))
    definition = asl.compile_workflow(spec).definition
    (map_state,) = [s for s in _states(definition) if s.get("Type") == "Map"]
    processor = map_state["ItemProcessor"]
    happy, name = 0, processor["StartAt"]
    while name is not None:
        happy += 1
        name = processor["States"][name].get("Next")
    if "MaxItemsPerBatch" in map_state["ItemBatcher"]:
        size = map_state["ItemBatcher"]["MaxItemsPerBatch"]
    else:
        (node,) = (n for n in spec.nodes if isinstance(n, ir.MapNode))
        size, _ = container_batching(ITEMS, node, spec.tasks[node.task])
    return count + math.ceil(ITEMS / size) * (1 + happy)  # the child's start, then its states


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in definition.get("States", {}).values():
        found.append(state)
        for branch in state.get("Branches", []):
            found.extend(_states(branch))
    return found


def _ecs_starts(sandbox: Sandbox) -> int:
    ecs: Any = sandbox.aws.client("ecs")
    cluster = sandbox._substitution(protocol.Placeholder.CLUSTER_ARN)
    return sum(
        len(ecs.list_tasks(cluster=cluster, desiredStatus=s)["taskArns"]) for s in ("RUNNING", "STOPPED")
    )


def _compute_cost(billed_seconds: float) -> float:
    return billed_seconds * (VCPU * FARGATE_PER_VCPU_SECOND + MEMORY_GB * FARGATE_PER_GB_SECOND)


def _run(spec: ir.WorkflowSpec, inputs: dict[str, Any]) -> tuple[int, int, float, Any]:
    with Sandbox(container_log=open("/dev/null", "w")) as sandbox:
        started = time.perf_counter()
        execution = sandbox.run(spec, inputs, timeout=300)
        wall = time.perf_counter() - started
        outputs = execution.outputs()
        return _ecs_starts(sandbox), _transitions(sandbox, execution.arn, spec), wall, outputs


def main() -> None:
    xs = list(range(ITEMS))
    expected = {"o0": 3 * sum(xs) + sum(range(CHAIN))}
    tasks = ITEMS + CHAIN + 1
    rows = []
    for label, flow in (("actor tasks", as_actors), ("plain Fargate", as_fargate)):
        starts, transitions, wall, outputs = _run(lower(flow), {"xs": xs})
        if outputs != expected:
            raise SystemExit(f"{label}: wrong outputs {outputs} (expected {expected})")
        if flow is as_actors:
            # Each worker: its start, every task it ran (shared), then ttl_seconds idle before it exits.
            billed = starts * (START_SECONDS + workers.ttl_seconds) + tasks * TASK_SECONDS
        else:
            # Each container: its start and its tasks, at least a minute. A map batch runs many items.
            per_container = (tasks * TASK_SECONDS) / max(starts, 1)
            billed = starts * max(FARGATE_MINIMUM_SECONDS, START_SECONDS + per_container)
        compute = _compute_cost(billed)
        orchestration = transitions * STANDARD_PER_TRANSITION
        rows.append((label, starts, transitions, billed, compute, orchestration, wall))
    print(
        f"{tasks} trivial tasks ({ITEMS}-item map + {CHAIN}-task chain + 1), {VCPU} vCPU / {MEMORY_GB} GB each"
    )
    print(
        f"{'variant':<14} {'container starts':>16} {'transitions':>11} {'billed s':>9} "
        f"{'compute $':>10} {'SFN $':>8} {'total $':>8} {'emulated wall s':>15}"
    )
    for label, starts, transitions, billed, compute, orchestration, wall in rows:
        print(
            f"{label:<14} {starts:>16} {transitions:>11} {billed:>9.0f} {compute:>10.5f} "
            f"{orchestration:>8.5f} {compute + orchestration:>8.5f} {wall:>15.1f}"
        )
    actor, plain = rows
    print(
        f"actor tasks: {plain[1] / max(actor[1], 1):.0f}x fewer container starts, "
        f"{(plain[4] + plain[5]) / max(actor[4] + actor[5], 1e-12):.1f}x cheaper in all "
        f"(start-up {START_SECONDS:.0f} s and {TASK_SECONDS} s per task assumed; "
        f"{math.ceil(tasks / max(actor[1], 1))} tasks per worker start)"
    )


if __name__ == "__main__":
    main()
