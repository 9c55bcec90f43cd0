"""Benchmark: ASL compile time and definition size for generated workflows (prints, never asserts).

Run with ``.venv/bin/python bench/bench_compile.py``. Target: 1,000 nodes in under 1 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

try:
    import stratoflow  # noqa: F401
except ImportError:  # not installed in the venv yet: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.errors import CompileError

_WHERE = ir.SourceLocation(path="bench.py", line=1)
_INT = ir.TypeRef(kind="int")


def _spec(name: str, edges: dict[str, list[str]]) -> ir.WorkflowSpec:
    step = ir.TaskSpec(
        name="step",
        ref="bench:step",
        code_hash="0" * 16,
        inputs=(ir.Variable(name="x", type=ir.TypeRef(kind="list", args=(_INT,))),),
        outputs=(ir.Variable(name="o0", type=_INT),),
        location=_WHERE,
    )
    nodes = tuple(
        ir.TaskNode(
            id=node,
            task="step",
            inputs={"x": ir.ListBinding(items=tuple(ir.PromiseBinding(node=u, output="o0") for u in ups))},
            location=_WHERE,
        )
        for node, ups in edges.items()
    )
    return ir.WorkflowSpec(
        name=name,
        ref=f"bench:{name}",
        inputs=(),
        outputs=(),
        output_style="none",
        output_bindings={},
        nodes=nodes,
        tasks={"step": step},
        location=_WHERE,
    )


def chain(n: int) -> dict[str, list[str]]:
    """n0 -> n1 -> ... -> n{n-1}."""
    return {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(n)}


def fan_out(n: int) -> dict[str, list[str]]:
    """One source, n-2 independent nodes, one join."""
    middle = [f"m{i}" for i in range(n - 2)]
    return {"source": [], **{m: ["source"] for m in middle}, "join": middle}


def main() -> None:
    """Compile each generated shape a few times and print the best time and the size."""
    print(f"{'shape':<10} {'nodes':>6} {'best ms':>9} {'deployed B':>10}  note")
    for shape in (chain, fan_out):
        for n in (100, 1_000):
            spec = _spec(f"{shape.__name__}_{n}", shape(n))
            best, size, note = float("inf"), 0, ""
            for _ in range(5):
                start = time.perf_counter()
                try:
                    compiled = asl.compile_workflow(spec)
                except CompileError as exc:
                    best = min(best, time.perf_counter() - start)
                    note = "CompileError: " + str(exc).split(": error: ", 1)[-1]
                    continue
                best = min(best, time.perf_counter() - start)
                size = len(compiled.deployed_json().encode())  # what the 1 MB limit counts
            print(f"{shape.__name__:<10} {n:>6} {best * 1000:>9.1f} {size or '-':>10}  {note}")


if __name__ == "__main__":
    main()
