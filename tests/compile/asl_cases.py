"""Helpers for the ASL compiler tests: load the case workflows, generate large DAGs."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.lower import lower

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
GOLDEN_DIR = HERE / "golden"
REPO_ROOT = HERE.parents[1]
CASE_NAMES = sorted(p.stem for p in CASES_DIR.glob("*.py") if not p.name.startswith("_"))


def _repo_relative(path: str) -> str:
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path


def _normalise_paths(value: Any) -> Any:
    """Source paths relative to the repo root, so golden files do not depend on the cwd."""
    if isinstance(value, dict):
        out = {k: _normalise_paths(v) for k, v in value.items()}
        if set(out) == {"path", "line", "col"} and isinstance(out["path"], str):
            out["path"] = _repo_relative(out["path"])
        return out
    if isinstance(value, list):
        return [_normalise_paths(v) for v in value]
    return value


@cache
def load_case(name: str) -> ir.WorkflowSpec:
    """Import ``cases/<name>.py`` (under a stable module name) and lower its ``WORKFLOW``."""
    module_name = f"compile_cases.{name}"
    spec = importlib.util.spec_from_file_location(module_name, CASES_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    lowered = lower(module.WORKFLOW)
    return ir.WorkflowSpec.model_validate(_normalise_paths(lowered.model_dump(mode="json")))


_HERE = ir.SourceLocation(path="generated.py", line=1, col=1)
_INT = ir.TypeRef(kind="int")


def _task(name: str, **options: Any) -> ir.TaskSpec:
    return ir.TaskSpec(
        name=name,
        ref=f"generated:{name}",
        code_hash="0" * 16,
        inputs=(ir.Variable(name="x", type=ir.TypeRef(kind="list", args=(_INT,))),),
        outputs=(ir.Variable(name="o0", type=_INT),),
        location=_HERE,
        **options,
    )


def dag_spec(edges: dict[str, list[str]], *, name: str = "generated", **task_options: Any) -> ir.WorkflowSpec:
    """A workflow whose nodes (in the dict's order, topological) read their listed upstream nodes."""
    nodes = tuple(
        ir.TaskNode(
            id=node_id,
            task="step",
            inputs={
                "x": ir.ListBinding(items=tuple(ir.PromiseBinding(node=u, output="o0") for u in upstream))
            },
            location=ir.SourceLocation(path="generated.py", line=i + 2, col=5),
        )
        for i, (node_id, upstream) in enumerate(edges.items())
    )
    last = next(reversed(edges)) if edges else None
    return ir.WorkflowSpec(
        name=name,
        ref=f"generated:{name}",
        inputs=(),
        outputs=(ir.Variable(name="o0", type=_INT),) if last else (),
        output_style="single" if last else "none",
        output_bindings={"o0": ir.PromiseBinding(node=last, output="o0")} if last else {},
        nodes=nodes,
        tasks={"step": _task("step", **task_options)},
        location=_HERE,
    )


def chain_edges(n: int) -> dict[str, list[str]]:
    """n0 -> n1 -> ... -> n{n-1}."""
    return {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(n)}


def fan_out_edges(n: int) -> dict[str, list[str]]:
    """One source, n-2 independent middle nodes, one join."""
    middle = [f"m{i}" for i in range(n - 2)]
    return {"source": [], **{m: ["source"] for m in middle}, "join": middle}
