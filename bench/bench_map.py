"""Benchmark: map_task overhead locally, on emulated AWS, and its AWS orchestration fees (prints only).

Run with ``.venv/bin/python bench/bench_map.py``. Targets (2-core machine): local per-item
overhead under 50 µs uncached and under 30 µs fully cached for 10,000 trivial items, and
orchestration fees of at most $0.10 per million items for the compiled Distributed Map.
A CPU-bound map (pure-Python loops, which hold the GIL) is timed on threads and on worker
processes (``map_task(processes=True)``): processes should approach a cores-fold speed-up.

The fees are computed from the compiled definition (its ``ItemBatcher.MaxItemsPerBatch``
and child ``ExecutionType``), at us-east-1 list prices, compute excluded:

- Standard: $0.025 per 1,000 state transitions. The parent pays its own states (prepare,
  Map, gather) plus one transition per child execution the Distributed Map starts (AWS,
  "Transitions in Distributed Map state", Step Functions developer guide).
- Express child: $1.00 per million requests, plus duration at $0.0000166667 per GB-second
  billed in 64 MB and 100 ms units (the minimum is assumed: one short Lambda call).
- Lambda: $0.20 per million requests (one per child: the batch's ``map_items`` call).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import stratoflow  # noqa: F401
except ImportError:  # not installed in the venv yet: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))

from stratoflow import map_task, task, workflow
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower

LOCAL_ITEMS = 10_000
CPU_ITEMS = 8
CPU_LOOP = 3_000_000  # iterations per item: a few tenths of a second of pure Python
EMULATED_ITEMS = 1_000
MILLION = 1_000_000

STANDARD_PER_TRANSITION = 0.025 / 1_000
EXPRESS_PER_REQUEST = 1.00 / MILLION
EXPRESS_PER_GB_SECOND = 0.0000166667
EXPRESS_MIN_GB_SECONDS = (64 / 1024) * 0.1  # 64 MB for 100 ms, the smallest billed unit
LAMBDA_PER_REQUEST = 0.20 / MILLION


@task
def bump(x: int) -> int:
    return x + 1


@task(cache=True, cache_version="1")
def bump_cached(x: int) -> int:
    return x + 1


@workflow
def bump_all(xs: list[int]) -> list[int]:
    out: list[int] = map_task(bump)(x=xs)
    return out


@workflow
def bump_all_cached(xs: list[int]) -> list[int]:
    out: list[int] = map_task(bump_cached)(x=xs)
    return out


@workflow
def bump_one_per_child(xs: list[int]) -> list[int]:
    out: list[int] = map_task(bump, batch_size=1)(x=xs)
    return out


@task
def spin(n: int) -> int:
    """Pure-Python CPU work: holds the GIL for its whole run."""
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
    return acc


@workflow
def spin_on_threads(ns: list[int]) -> list[int]:
    out: list[int] = map_task(spin)(n=ns)
    return out


@workflow
def spin_on_processes(ns: list[int]) -> list[int]:
    out: list[int] = map_task(spin, processes=True)(n=ns)
    return out


def _timed_local(spec: Any, xs: list[int], home: Path) -> float:
    started = time.perf_counter()
    outputs = run_local(spec, {"xs": xs}, RunOptions(home=home, progress=False)).outputs
    elapsed = time.perf_counter() - started
    assert outputs["o0"][-1] == xs[-1] + 1 if xs else outputs["o0"] == []  # noqa: S101 - sanity
    return elapsed


def local_overhead() -> None:
    xs = list(range(LOCAL_ITEMS))
    print(f"local: {LOCAL_ITEMS:,} trivial items (best of 3; per item = (run - empty run) / items)")
    for label, flow, cached in (
        ("uncached", bump_all, False),
        ("fully cached", bump_all_cached, True),
    ):
        spec = lower(flow)
        best = math.inf
        for _ in range(3):
            with tempfile.TemporaryDirectory() as home:
                empty = _timed_local(spec, [], Path(home))
                if cached:
                    _timed_local(spec, xs, Path(home))  # fill the cache
                best = min(best, _timed_local(spec, xs, Path(home)) - empty)
        target = 30 if cached else 50
        per_item = best / LOCAL_ITEMS * 1e6
        verdict = "OK" if per_item < target else "MISSED"
        print(f"  {label:<13} {per_item:7.1f} µs/item   (target < {target} µs: {verdict})")


def cpu_bound_threads_vs_processes() -> None:
    ns = [CPU_LOOP] * CPU_ITEMS
    cores = os.cpu_count() or 1
    print(
        f"local: {CPU_ITEMS} CPU-bound items ({CPU_LOOP:,} pure-Python loop steps each), {cores} cores, best of 3"
    )
    walls: dict[str, float] = {}
    for label, flow in (("threads", spin_on_threads), ("processes", spin_on_processes)):
        spec = lower(flow)
        best = math.inf
        for _ in range(3):
            with tempfile.TemporaryDirectory() as home:
                options = RunOptions(home=Path(home), progress=False, use_cache=False)
                started = time.perf_counter()
                outputs = run_local(spec, {"ns": ns}, options).outputs
                best = min(best, time.perf_counter() - started)
            assert len(outputs["o0"]) == CPU_ITEMS  # noqa: S101 - sanity
        walls[label] = best
        print(f"  {label:<10} {best:6.2f} s")
    print(
        f"  processes are {walls['threads'] / walls['processes']:.2f}x faster (ideal on {cores} cores: {cores}x)"
    )


def emulated_wall_times() -> None:
    from stratoflow.testing._sandbox import Sandbox

    xs = list(range(EMULATED_ITEMS))
    print(f"emulated AWS (moto): {EMULATED_ITEMS:,} trivial items, wall time of one execution")
    lines: list[str] = []
    with Sandbox() as sandbox:
        for flow in (bump_one_per_child, bump_all):
            spec = lower(flow)
            compiled = sandbox.deploy(spec)
            batch = _map_state(compiled.definition)["ItemBatcher"]["MaxItemsPerBatch"]
            started = time.perf_counter()
            execution = sandbox.run(spec, {"xs": xs}, timeout=600)
            elapsed = time.perf_counter() - started
            assert execution.outputs()["o0"] == [x + 1 for x in xs]  # noqa: S101 - sanity
            children = math.ceil(EMULATED_ITEMS / batch)
            lines.append(f"  batch_size={batch:<4} {children:5,} children  {elapsed:6.2f} s")
    print("\n".join(lines))


def _map_state(definition: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in definition["States"].values() if s["Type"] == "Map")


def _parent_transitions(definition: dict[str, Any]) -> int:
    """States the parent enters once per run (no Choice loops in these definitions)."""
    return len(definition["States"])


def fees_per_million_items(definition: dict[str, Any]) -> dict[str, float]:
    """Orchestration fees for one run over a million items, from the compiled definition."""
    map_state = _map_state(definition)
    batch = map_state.get("ItemBatcher", {}).get("MaxItemsPerBatch", 1)
    children = math.ceil(MILLION / batch)
    execution_type = map_state["ItemProcessor"]["ProcessorConfig"]["ExecutionType"]
    child_states = len(map_state["ItemProcessor"]["States"])
    fees = {
        "parent transitions": (_parent_transitions(definition) - 1 + children) * STANDARD_PER_TRANSITION,
        "lambda requests": children * LAMBDA_PER_REQUEST,
    }
    if execution_type == "EXPRESS":
        fees["express requests"] = children * EXPRESS_PER_REQUEST
        fees["express duration"] = children * EXPRESS_MIN_GB_SECONDS * EXPRESS_PER_GB_SECOND
    else:
        fees["child transitions"] = children * child_states * STANDARD_PER_TRANSITION
    return fees


def aws_fees() -> None:
    definition = asl.compile_workflow(lower(bump_all)).definition
    batch = _map_state(definition)["ItemBatcher"]["MaxItemsPerBatch"]
    print(f"AWS orchestration fees per 1,000,000 items (compiled batch size {batch}, compute excluded)")
    fees = fees_per_million_items(definition)
    for name, value in fees.items():
        print(f"  {name:<20} ${value:9.4f}")
    total = sum(fees.values())
    print(f"  {'total':<20} ${total:9.4f}   (target <= $0.10: {'OK' if total <= 0.10 else 'MISSED'})")

    # For contrast: one STANDARD child execution per item (no batching).
    standard = asl.compile_workflow(lower(bump_one_per_child)).definition
    _map_state(standard)["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "STANDARD"
    contrast = sum(fees_per_million_items(standard).values())
    print(f"  contrast: one STANDARD child per item ${contrast:,.2f} ({contrast / total:,.0f}x)")


def main() -> None:
    local_overhead()
    cpu_bound_threads_vs_processes()
    emulated_wall_times()
    aws_fees()


if __name__ == "__main__":
    main()
