"""Benchmark: stratoflow against flytekit 1.16 on the shared side-by-side workloads, and `import stratoflow`.

Prints figures beside their targets (issue 14: every workload at least 5x faster than flytekit as a
whole process; the import at most 120 ms from an installed wheel); never asserts (benchmarks are
not tests).

    .venv/bin/python bench/bench_flytekit.py --strato PY --flyte PY [--reps N] [--imports N]

``--strato`` is an interpreter with the stratoflow *wheel* installed (an editable install
recompiles every module where PYTHONDONTWRITEBYTECODE is set), ``--flyte`` one with
flytekit==1.16.31 (see ../shared/bench/flytekit-compare/README.md for both venvs). First the
shared ``compare.py`` prints its table (medians of whole-process wall time and of in-process run
time, alternating A B A B). The machine is shared: wall times stretch with the load, so this
script also prints the load average and, per workload, the whole-process CPU time (user + sys,
which the load stretches far less) of each side and its ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPARE = ROOT.parent / "shared" / "bench" / "flytekit-compare"
CASES = (("import", 0), ("chain", 50), ("map", 1000), ("map_cached", 1000), ("dynamic", 1000))
RATIO_TARGET = 5.0
IMPORT_TARGET_MS = 120.0
_IMPORT_PROBE = (
    "import time; w, c = time.perf_counter(), time.process_time(); import stratoflow; "
    "print(time.perf_counter() - w, time.process_time() - c)"
)


def _cpu_seconds(python: str, script: str, case: str, n: int, home: str) -> float:
    """User + sys seconds of one whole process running ``case``."""
    env = {**os.environ, "HOME": home, "STRATOFLOW_HOME": str(Path(home) / ".stratoflow")}
    child = subprocess.Popen(
        [python, str(COMPARE / script), case, str(n)], stdout=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        sys.exit(f"bench_flytekit: {python} {script} {case} exited with status {status}")
    return usage.ru_utime + usage.ru_stime


def _measure_cpu(python: str, script: str, case: str, n: int) -> float:
    home = tempfile.mkdtemp(prefix="bench-flyte-")
    try:
        if case == "map_cached":  # as compare.py: fill the cache, time the second run
            _cpu_seconds(python, script, case, n, home)
        return _cpu_seconds(python, script, case, n, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def cpu_table(strato: str, flyte: str, reps: int) -> None:
    """Median whole-process CPU seconds per workload, alternating the two sides."""
    print(f"whole-process CPU time (user+sys), median of {reps}:")
    for case, n in CASES:
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(reps):
            ours.append(_measure_cpu(strato, "workloads_strato.py", case, n))
            theirs.append(_measure_cpu(flyte, "workloads_flyte.py", case, n))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"  {case:<11} n={n:<5} {a:.3f}s vs {b:.3f}s  x{b / a:.1f} (target >= x{RATIO_TARGET:.0f})")


def import_ms(python: str, samples: int) -> tuple[float, float]:
    """Median (wall, CPU) ms of `import stratoflow` in fresh interpreters."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(samples):
        out = subprocess.run(
            [python, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True
        ).stdout.split()
        wall.append(float(out[0]) * 1000)
        cpu.append(float(out[1]) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strato", required=True, help="interpreter with the stratoflow wheel installed")
    parser.add_argument("--flyte", required=True, help="interpreter with flytekit==1.16.31 installed")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--imports", type=int, default=15)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    subprocess.run(
        [sys.executable, str(COMPARE / "compare.py"), args.strato, args.flyte, "--reps", str(args.reps)],
        check=True,
    )
    cpu_table(args.strato, args.flyte, args.reps)
    wall, cpu = import_ms(args.strato, args.imports)
    print(
        f"import stratoflow: {wall:.0f} ms wall, {cpu:.0f} ms CPU, median of {args.imports} "
        f"(target <= {IMPORT_TARGET_MS:.0f} ms)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
