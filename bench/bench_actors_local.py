"""Benchmark: an actor map (``replica_count=2``) versus ``map_task(processes=True)``, locally (prints only).

Run with ``.venv/bin/python bench/bench_actors_local.py``. Both spread the same items over two
worker processes and time whole local runs (best of 3), caching off:

1. one map over 200 trivial items: the actor run starts two workers from multiprocessing's
   forkserver (safe from the executor's threads; the first run of a process also pays the
   server's own start, a spawned interpreter importing stratoflow, shown apart); the process
   map forks its two workers from the threaded executor itself;
2. four maps of 50 items in one run whose items call an ``@actor_cache`` loader that burns 0.2
   CPU-seconds (deserialising a model's weights, say): the actor environment keeps its two
   workers for the whole run, so the model loads twice; each process map has a pool of its
   own, so it loads twice per map, eight times (the four maps run at once, on 2 cores here).

Worker starts and loads are counted, not assumed: ``LocalRun.actors`` and a file the loader writes.
"""

from __future__ import annotations

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

from stratoflow import ActorEnvironment, actor_cache, map_task, task, workflow
from stratoflow.backends.local import LocalRun, RunOptions, run_local
from stratoflow.lower import lower

ITEMS = 200
MAPS = 4
LOAD_SECONDS = 0.2
REPEATS = 3

env = ActorEnvironment(name="bench", replica_count=2, ttl_seconds=60)


@task
def bump(x: int) -> int:
    return x + 1


@env.task
def bump_actor(x: int) -> int:
    return x + 1


@workflow
def bump_processes(xs: list[int]) -> list[int]:
    out: list[int] = map_task(bump, processes=True, concurrency=2)(x=xs)
    return out


@workflow
def bump_actors(xs: list[int]) -> list[int]:
    out: list[int] = map_task(bump_actor)(x=xs)
    return out


@actor_cache
def model(log: str) -> int:
    start = time.process_time()
    while time.process_time() - start < LOAD_SECONDS:  # CPU, as decoding weights is
        pass
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    return 3


@task
def predict(x: int, log: str) -> int:
    return x * model(log)


@env.task
def predict_actor(x: int, log: str) -> int:
    return x * model(log)


@task
def total(parts: list[list[int]]) -> int:
    return sum(sum(part) for part in parts)


@workflow
def predict_processes(xs: list[int], log: str) -> int:
    parts = [map_task(predict, processes=True, concurrency=2)(x=xs, log=log) for _ in range(MAPS)]
    return total(parts=parts)


@workflow
def predict_actors(xs: list[int], log: str) -> int:
    parts = [map_task(predict_actor)(x=xs, log=log) for _ in range(MAPS)]
    return total(parts=parts)


def _best(
    wf: Any, inputs: dict[str, Any], home: Path, log: Path | None = None
) -> tuple[float, LocalRun, int]:
    spec = lower(wf)
    options = RunOptions(use_cache=False, home=home, progress=False)
    best, result, loads = float("inf"), None, 0
    for _ in range(REPEATS):
        if log is not None:
            log.unlink(missing_ok=True)
        start = time.perf_counter()
        result = run_local(spec, inputs, options)
        best = min(best, time.perf_counter() - start)
        loads = len(log.read_text(encoding="utf-8").splitlines()) if log is not None else 0
    assert result is not None  # noqa: S101 - REPEATS >= 1
    return best, result, loads


def _starts(result: LocalRun) -> int:
    return sum(stats.starts for stats in result.actors.values())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        xs = list(range(ITEMS))
        print(f"local actor map vs map_task(processes=True), 2 workers each, best of {REPEATS} runs")
        start = time.perf_counter()
        run_local(lower(bump_actors), {"xs": [0]}, RunOptions(use_cache=False, home=home, progress=False))
        print(
            f"  first actor run of this process (starts the forkserver): {time.perf_counter() - start:.2f} s"
        )
        proc, proc_run, _ = _best(bump_processes, {"xs": xs}, home)
        actor, actor_run, _ = _best(bump_actors, {"xs": xs}, home)
        assert actor_run.outputs == proc_run.outputs  # noqa: S101 - same items, same outputs
        print(f"  {ITEMS} trivial items, one map:")
        print(f"    processes=True   {proc:6.2f} s   (2 forked workers)")
        print(f"    actor map        {actor:6.2f} s   ({_starts(actor_run)} workers from the forkserver)")
        print(f"    actor / processes = {actor / proc:.2f}")

        log = home / "loads"
        xs = list(range(ITEMS // MAPS))
        proc, proc_run, proc_loads = _best(predict_processes, {"xs": xs, "log": str(log)}, home, log)
        actor, actor_run, actor_loads = _best(predict_actors, {"xs": xs, "log": str(log)}, home, log)
        assert actor_run.outputs == proc_run.outputs  # noqa: S101
        print(
            f"  {MAPS} maps x {ITEMS // MAPS} items in one run, a {LOAD_SECONDS:g} CPU-s @actor_cache loader:"
        )
        print(f"    processes=True   {proc:6.2f} s   ({proc_loads} loads)")
        print(f"    actor maps       {actor:6.2f} s   ({actor_loads} loads on {_starts(actor_run)} workers)")
        print(f"    actor / processes = {actor / proc:.2f}")


if __name__ == "__main__":  # spawned actor workers import this file again: run nothing then
    main()
