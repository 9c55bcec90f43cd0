"""Benchmark: what recording a local run costs (prints only).

Run with ``.venv/bin/python bench/bench_records.py``. The same map of trivial items runs with
``run_local`` (nothing recorded) and with ``run_recorded`` (the run history, one node record per
item written in batches, the output tee); the difference is the recording's overhead.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

try:
    import stratoflow  # noqa: F401
except ImportError:  # not installed in the venv yet: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))

from stratoflow import map_task, task, workflow
from stratoflow.backends.local import RunHistory, RunOptions, run_local, run_recorded
from stratoflow.lower import lower

ROUNDS = 5


@task
def bump(x: int) -> int:
    return x + 1


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@workflow
def wide(n: int) -> list[int]:
    return map_task(bump)(x=numbers(n=n))


def _best(fn: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    """(best wall time, best CPU time of the process) over ``rounds``: on a shared machine the
    CPU time is the steadier figure."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    spec = lower(wide)
    for items in (1, 1_000, 10_000):
        with tempfile.TemporaryDirectory() as home:
            options = RunOptions(home=Path(home), use_cache=False, progress=False)
            inputs = {"n": items}
            plain = _best(functools.partial(run_local, spec, inputs, options))
            recorded = _best(functools.partial(run_recorded, spec, inputs, options))
            run_id = next(RunHistory(Path(home) / "runs.sqlite").list()).run_id
            rows = len(RunHistory(Path(home) / "runs.sqlite").nodes(run_id))
        print(
            f"{items:>6} items, {rows} records: run_local {plain[0] * 1e3:7.1f} ms "
            f"(CPU {plain[1] * 1e3:7.1f}), run_recorded {recorded[0] * 1e3:7.1f} ms "
            f"(CPU {recorded[1] * 1e3:7.1f}); recording costs {(recorded[1] - plain[1]) / items * 1e6:5.1f} "
            "µs of CPU per item"
        )


if __name__ == "__main__":
    main()
