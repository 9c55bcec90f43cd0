"""Benchmark: `import stratoflow` time and the local executor's overhead per task.

Prints figures beside their targets; never asserts (benchmarks are not tests).

    .venv/bin/python bench/bench_local.py [--runs N] [--imports N] [--width N] [--profile]

Overhead per task = (wall time of run_local - time spent inside the task bodies) / tasks.
The bodies are trivial (an addition), so this is what the executor costs per node:
scheduling, input resolution, encoding, hashing and storing outputs. The baseline calls
the same functions directly in this process.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

IMPORT_TARGET_MS = 150.0
OVERHEAD_TARGET_MS = 0.2
WIDTH = 200

_IMPORT_PROBE = "import time; t = time.perf_counter(); import stratoflow; print(time.perf_counter() - t)"


def import_time_ms(samples: int) -> tuple[float, float]:
    """Median (and min) wall time of `import stratoflow` in fresh interpreters, in ms."""
    times = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True, env=env
        )
        times.append(float(out.stdout.strip()) * 1000)
    return statistics.median(times), min(times)


def interpreter_startup_ms(samples: int) -> float:
    """Median time of a bare `python -c pass`, to put the import figure in context."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# --- the workflows (defined after `import stratoflow`, in main) --------------------------------------

BODY_SECONDS: list[float] = []


def build(width: int) -> dict[str, Any]:
    from stratoflow import task, workflow

    @task
    def step(x: int) -> int:
        start = time.perf_counter()
        result = x + 1
        BODY_SECONDS.append(time.perf_counter() - start)
        return result

    @task
    def leaf(x: int, i: int) -> int:
        start = time.perf_counter()
        result = x + i
        BODY_SECONDS.append(time.perf_counter() - start)
        return result

    @task
    def join(xs: list[int]) -> int:
        start = time.perf_counter()
        result = sum(xs)
        BODY_SECONDS.append(time.perf_counter() - start)
        return result

    @task(cache=True, cache_version="1")
    def cached_step(x: int) -> int:
        return x + 1

    @workflow
    def chain(x: int) -> int:
        value = x
        for _ in range(width):
            value = step(x=value)
        return value

    @workflow
    def fan_out(x: int) -> int:
        return join(xs=[leaf(x=x, i=i) for i in range(width)])

    @workflow
    def cached_chain(x: int) -> int:
        value = x
        for _ in range(width):
            value = cached_step(x=value)
        return value

    funcs = {"step": step.fn, "leaf": leaf.fn, "join": join.fn}
    return {"chain": chain, "fan_out": fan_out, "cached_chain": cached_chain, "funcs": funcs}


def measure_runs(spec: Any, inputs: dict[str, Any], tasks: int, runs: int, options: Any) -> dict[str, float]:
    from stratoflow.backends.local import run_local

    overheads, walls = [], []
    for _ in range(runs):
        BODY_SECONDS.clear()
        start = time.perf_counter()
        run_local(spec, inputs, options)
        wall = time.perf_counter() - start
        walls.append(wall * 1000)
        overheads.append((wall - sum(BODY_SECONDS)) * 1000 / tasks)
    return {"overhead_ms": statistics.median(overheads), "wall_ms": statistics.median(walls)}


def baseline_per_call_ms(funcs: dict[str, Callable[..., Any]], width: int, runs: int) -> dict[str, float]:
    """The same bodies called directly: the floor the executor is compared with."""
    chain, fan = [], []
    for _ in range(runs):
        start = time.perf_counter()
        value = 0
        for _ in range(width):
            value = funcs["step"](x=value)
        chain.append((time.perf_counter() - start) * 1000 / width)
        start = time.perf_counter()
        funcs["join"](xs=[funcs["leaf"](x=0, i=i) for i in range(width)])
        fan.append((time.perf_counter() - start) * 1000 / (width + 1))
    return {"chain": statistics.median(chain), "fan_out": statistics.median(fan)}


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per executor figure (median reported)")
    parser.add_argument("--imports", type=int, default=11, help="fresh interpreters for the import figure")
    parser.add_argument("--width", type=int, default=WIDTH, help="tasks in the chain / the fan-out")
    parser.add_argument("--profile", action="store_true", help="cProfile one chain run; print the top 25")
    args = parser.parse_args()

    median_import, min_import = import_time_ms(args.imports)
    startup = interpreter_startup_ms(max(3, args.imports // 2))

    with tempfile.TemporaryDirectory(prefix="stratoflow-bench-") as home:
        os.environ["STRATOFLOW_HOME"] = home  # a fresh cache and blob store, removed afterwards
        bench_executor(args, median_import, min_import, startup)


def bench_executor(args: argparse.Namespace, median_import: float, min_import: float, startup: float) -> None:
    start = time.perf_counter()
    from stratoflow.backends.local import RunOptions, run_local
    from stratoflow.lower import lower

    flows = build(args.width)
    specs = {name: lower(flows[name]) for name in ("chain", "fan_out", "cached_chain")}
    define_ms = (time.perf_counter() - start) * 1000
    options = RunOptions(progress=False, retry_base_seconds=0.01)

    run_local(specs["chain"], {"x": 0}, options)  # warm-up: first-run imports and caches
    chain = measure_runs(specs["chain"], {"x": 0}, args.width, args.runs, options)
    fan = measure_runs(specs["fan_out"], {"x": 0}, args.width + 1, args.runs, options)
    run_local(specs["cached_chain"], {"x": 0}, options)  # fill the cache: the measured runs are all hits
    cached = measure_runs(specs["cached_chain"], {"x": 0}, args.width, args.runs, options)
    base = baseline_per_call_ms(flows["funcs"], args.width, args.runs)

    w = args.width
    print(f"stratoflow local benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print()
    print(
        f"import stratoflow             {median_import:8.1f} ms  median of {args.imports} fresh processes"
        f" (min {min_import:.1f})   target <= {IMPORT_TARGET_MS:.0f} ms  "
        f"[{verdict(median_import, IMPORT_TARGET_MS)}]"
    )
    print(f"  (bare interpreter start    {startup:8.1f} ms, for context)")
    print(f"define + lower 3 workflows   {define_ms:8.1f} ms  ({3 * w + 2} task nodes)")
    print()
    print(f"executor overhead per task (median of {args.runs} runs; target <= {OVERHEAD_TARGET_MS} ms)")
    header = f"  {'workflow':<32}{'per task':>12}{'run wall':>12}{'direct call':>14}{'ratio':>10}"
    print(header)
    rows = [
        (f"chain of {w}", chain, base["chain"], True),
        (f"fan-out {w} + join", fan, base["fan_out"], True),
        (f"chain of {w}, all cache hits", cached, base["chain"], False),
    ]
    for label, figures, direct, targeted in rows:
        ratio = figures["overhead_ms"] / direct if direct > 0 else float("inf")
        mark = f"  [{verdict(figures['overhead_ms'], OVERHEAD_TARGET_MS)}]" if targeted else ""
        print(
            f"  {label:<32}{figures['overhead_ms']:>9.3f} ms{figures['wall_ms']:>9.1f} ms"
            f"{direct * 1000:>11.2f} us{ratio:>9.0f}x{mark}"
        )

    if args.profile:
        profile_chain(specs["chain"], options)


def profile_chain(spec: Any, options: Any) -> None:
    """cProfile three chain runs, worker threads included (the nodes run there), merged."""
    from stratoflow.backends.local import run_local

    profilers: list[cProfile.Profile] = []

    def start_in_thread(*_: object) -> None:
        sys.setprofile(None)
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    main_profiler = cProfile.Profile()
    threading.setprofile(start_in_thread)
    main_profiler.enable()
    try:
        for _ in range(3):
            run_local(spec, {"x": 0}, options)
    finally:
        main_profiler.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
    stats = pstats.Stats(main_profiler)
    for profiler in profilers:
        stats.add(profiler)
    print()
    print(f"profile of 3 chain runs ({len(profilers)} worker threads merged), by own time:")
    stats.strip_dirs().sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
