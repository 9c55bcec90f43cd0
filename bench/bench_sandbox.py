"""Benchmark: `run --sandbox` against the same local run, and `import stratoflow`, from the CLI.

Prints figures beside their targets (issue 14: sandbox at most 4x the local wall time, import at
most 120 ms from an installed wheel); never asserts (benchmarks are not tests).

    .venv/bin/python bench/bench_sandbox.py [--python PY] [--import-python PY] [--reps N] [--imports N] [--cache]

``--python`` runs the CLI (it needs the sandbox's moto, as the dev install has); ``--import-python``
(default: the same) is the interpreter whose import is timed: a venv with the wheel installed,
since an editable install recompiles every module where PYTHONDONTWRITEBYTECODE is set. Runs
alternate local, sandbox, local, ... in fresh processes with their own ``$STRATOFLOW_HOME``;
without ``--cache`` both pass ``--no-cache`` (every task runs), with it each home is warmed by
one run first (the cached second run a user iterating sees). The machine may be loaded:
quote the ratio, not the seconds.
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
    local: list[float] = []
    sandbox: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        homes = {False: Path(tmp) / "local", True: Path(tmp) / "sandbox"}
        if args.cache:
            for is_sandbox, home in homes.items():
                _run(args.python, home, sandbox=is_sandbox, cache=True)
        for _ in range(args.reps):
            local.append(_run(args.python, homes[False], sandbox=False, cache=args.cache))
            sandbox.append(_run(args.python, homes[True], sandbox=True, cache=args.cache))
    local_s, sandbox_s = statistics.median(local), statistics.median(sandbox)
    ratio = sandbox_s / local_s
    kind = "cached" if args.cache else "uncached"
    print(f"run {EXAMPLE.name} {WORKFLOW} ({kind}, median of {args.reps}, whole process):")
    print(f"  local   {local_s:6.2f} s")
    print(f"  sandbox {sandbox_s:6.2f} s   ratio x{ratio:.1f} (target <= x{RATIO_TARGET:.0f})")
    ms = import_ms(args.import_python or args.python, args.imports)
    print(f"import stratoflow: {ms:.0f} ms median of {args.imports} (target <= {IMPORT_TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
