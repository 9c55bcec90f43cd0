"""Run the same map workflows on threads and on worker processes, to prove they behave alike."""

from __future__ import annotations

from typing import Any

from stratoflow import ir
from stratoflow.backends.local import LocalRun, RunOptions, run_local
from stratoflow.lower import lower

MAP_MODES = ("threads", "processes")


def in_mode(spec: ir.WorkflowSpec, mode: str) -> ir.WorkflowSpec:
    """``spec`` with every map node's items on threads or on processes (as ``map_task(processes=...)``)."""
    nodes = tuple(
        node.model_copy(update={"processes": mode == "processes"}) if isinstance(node, ir.MapNode) else node
        for node in spec.nodes
    )
    return spec.model_copy(update={"nodes": nodes})


def run_in(mode: str, wf: Any, options: RunOptions, **inputs: Any) -> LocalRun:
    """Run workflow ``wf`` locally with its map items in ``mode``."""
    return run_local(in_mode(lower(wf), mode), inputs, options)
