"""Benchmark: the IR on the wire, side by side for two interpreters (prints, never asserts).

    .venv/bin/python bench/bench_ir.py [PY ...] [--nodes N] [--reps N]

For each interpreter (default: this one; pass a venv with an older wheel to compare), in a fresh
process: how long lowering a chain of N tasks takes, validating its spec JSON
(``WorkflowSpec.model_validate_json``), writing it (``model_dump_json``), the JSON's size, and
whether defining and lowering loaded pydantic at all (a local run never needs it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_PROBE = """
import json, sys, time
from stratoflow import task, workflow
from stratoflow.lower import lower
N, REPS = int(sys.argv[1]), int(sys.argv[2])

@task
def inc(x: int) -> int:
    return x + 1

@workflow
def chain(x: int = 0) -> int:
    v = inc(x=x)
    for _ in range(N - 1):
        v = inc(x=v)
    return v

t = time.perf_counter()
spec = lower(chain)
lowered = time.perf_counter() - t
loaded = "pydantic" in sys.modules
from stratoflow import ir
text = spec.model_dump_json()
ir.WorkflowSpec.model_validate_json(text)  # the schema is built once per process
t = time.perf_counter()
for _ in range(REPS):
    ir.WorkflowSpec.model_validate_json(text)
validate = (time.perf_counter() - t) / REPS
t = time.perf_counter()
for _ in range(REPS):
    spec.model_dump_json()
dump = (time.perf_counter() - t) / REPS
print(json.dumps({"lower": lowered, "validate": validate, "dump": dump, "bytes": len(text), "pydantic": loaded}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    print(f"a chain of {args.nodes} tasks, mean of {args.reps}:")
    for python in args.pythons:
        out = subprocess.run(
            [python, "-c", _PROBE, str(args.nodes), str(args.reps)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  {python}: lower {r['lower'] * 1000:.1f} ms, validate {r['validate'] * 1000:.1f} ms, "
            f"dump {r['dump'] * 1000:.1f} ms, {r['bytes']} bytes, pydantic loaded by lowering: {r['pydantic']}"
        )


if __name__ == "__main__":
    main()
