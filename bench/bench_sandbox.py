"""Benchmark: `run --sandbox` against the same local run, and `import stratoflow`, from the CLI.

Prints figures beside their targets (issue 14: sandbox at most 4x the local wall time, import at
most 120 ms from an installed wheel); never asserts (benchmarks are not tests).

    .venv/bin/python bench/bench_sandbox.py [--python PY] [--import-python PY] [--reps N] [--imports N] [--cache]

``--python`` runs the CLI (it needs the sandbox's moto, as the dev install has); ``--import-python``
(default: the same) is the interpreter whose import is timed: a venv with the wheel installed,
since an editable install recompiles every module where PYTHONDONTWRITEBYTECODE is set. Runs
alternate local, sandbox, local, ... in fresh processes with their own ``$STRATOFLOW_HOME``;
without ``--cache`` both pass ``--no-cache`` (every task runs), with it each home is warmed by
one run first (the cached second run a user iterating sees). Sandbox runs are timed twice:
cold (each process imports the emulator) and with ``stratoflow sandbox start``'s server up
for their home (started before the timed runs, so its own start-up is not in them). The
machine may be loaded: quote the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "features.py"
WORKFLOW = "features"
RATIO_TARGET = 4.0
IMPORT_TARGET_MS = 120.0
_IMPORT_PROBE = "import time; t = time.perf_counter(); import stratoflow; print(time.perf_counter() - t)"


def _run(python: str, home: Path, *, sandbox: bool, cache: bool) -> float:
    options = [*(["--sandbox"] if sandbox else []), *([] if cache else ["--no-cache"])]
    command = [python, "-m", "stratoflow.cli", "run", *options, str(EXAMPLE), WORKFLOW]
    env = {**os.environ, "STRATOFLOW_HOME": str(home)}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench_sandbox: {' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return elapsed


def _server(python: str, home: Path, action: str) -> None:
    """``stratoflow sandbox start|stop`` for ``home``: the warm series' runs are handed to it."""
    env = {**os.environ, "STRATOFLOW_HOME": str(home)}
    command = [python, "-m", "stratoflow.cli", "sandbox", action]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)


def import_ms(python: str, samples: int) -> float:
    """Median in-process time of `import stratoflow` in fresh interpreters, in ms."""
    times = []
    for _ in range(samples):
        out = subprocess.run([python, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True)
        times.append(float(out.stdout) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter with stratoflow installed")
    parser.add_argument("--import-python", help="interpreter with the wheel installed (default: --python)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--imports", type=int, default=10)
    parser.add_argument("--cache", action="store_true", help="measure the cached (second) run")
    args = parser.parse_args()
    series: dict[str, list[float]] = {"local": [], "sandbox": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        homes = {name: Path(tmp) / name for name in series}
        if args.cache:
            for name, home in homes.items():
                _run(args.python, home, sandbox=name != "local", cache=True)
        _server(args.python, homes["warm"], "start")
        try:
            for _ in range(args.reps):
                for name, times in series.items():
                    times.append(_run(args.python, homes[name], sandbox=name != "local", cache=args.cache))
        finally:
            _server(args.python, homes["warm"], "stop")
    local_s = statistics.median(series["local"])
    kind = "cached" if args.cache else "uncached"
    print(f"run {EXAMPLE.name} {WORKFLOW} ({kind}, median of {args.reps}, whole process):")
    print(f"  local                  {local_s:6.2f} s")
    for name, label in (("sandbox", "sandbox (cold)"), ("warm", "sandbox (server up)")):
        seconds = statistics.median(series[name])
        ratio = seconds / local_s
        print(f"  {label:<22} {seconds:6.2f} s   ratio x{ratio:.1f} (target <= x{RATIO_TARGET:.0f})")
    ms = import_ms(args.import_python or args.python, args.imports)
    print(f"import stratoflow: {ms:.0f} ms median of {args.imports} (target <= {IMPORT_TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
