"""A workflow's DAG laid out for drawing: boxes in columns by depth, edges from the bindings.

The browser only draws what this returns (an SVG of positioned boxes and edges), so the
layout is plain Python that a unit test can check without a browser. Columns are the
longest path from a workflow input; rows within a column follow the mean row of a box's
parents (one barycentre sweep), which keeps most edges short and uncrossed for the
pipeline-shaped DAGs workflows are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from stratoflow import ir

__all__ = ["layout"]

BOX_WIDTH = 150
BOX_HEIGHT = 44
COLUMN_GAP = 48
ROW_GAP = 24
MARGIN = 16

_Node = ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode


@dataclass(frozen=True)
class _Box:
    id: str
    label: str
    kind: str  # task | map | branch | gate | on_failure | input | output
    x: int = 0
    y: int = 0


def _sources(binding: ir.Binding) -> list[str]:
    """The box ids a binding reads: nodes, and workflow inputs as ``in:<name>``."""
    if isinstance(binding, ir.PromiseBinding):
        return [binding.node]
    if isinstance(binding, ir.InputBinding):
        return [f"in:{binding.name}"]
    if isinstance(binding, ir.ListBinding):
        return [s for item in binding.items for s in _sources(item)]
    if isinstance(binding, ir.DictBinding):
        return [s for entry in binding.entries.values() for s in _sources(entry)]
    if isinstance(binding, ir.ElementBinding):
        return _sources(binding.of)
    return []


def _label(spec: ir.WorkflowSpec, node: _Node) -> tuple[str, str]:
    if isinstance(node, ir.BranchNode):
        return f"if {node.name or node.id}", "branch"
    if isinstance(node, ir.GateNode):
        return f"{node.gate} {node.name or f'{node.seconds}s'}", "gate"
    name = spec.tasks[node.task].name if node.task in spec.tasks else node.task
    return (f"map {name}", "map") if isinstance(node, ir.MapNode) else (name, "task")


def _node_reads(node: _Node) -> list[str]:
    if isinstance(node, ir.BranchNode):
        # A conditional reads what its conditions read; its cases' nodes hang off it.
        reads: list[str] = []
        for case in node.cases:
            if case.condition is not None:
                reads.extend(_condition_sources(case.condition))
        return [*reads, *node.after]
    return [s for binding in node.inputs.values() for s in _sources(binding)] + list(node.after)


def _condition_sources(condition: ir.Condition) -> list[str]:
    if isinstance(condition, ir.BoolOp):
        return [*_condition_sources(condition.left), *_condition_sources(condition.right)]
    return [s for b in (condition.left, condition.right) if b is not None for s in _sources(b)]


def _graph(spec: ir.WorkflowSpec) -> tuple[list[_Box], list[tuple[str, str]], list[tuple[str, str]]]:
    """Boxes, drawn edges, and hidden edges that only order columns (a case's nodes before
    the readers of its conditional's outputs)."""
    boxes = [_Box(f"in:{v.name}", v.name, "input") for v in spec.inputs]
    edges: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    inner_of: dict[str, list[str]] = {}
    for node in spec.all_nodes():
        label, kind = _label(spec, node)
        if node is spec.on_failure:
            kind = "on_failure"
        boxes.append(_Box(node.id, label, kind))
        edges.extend((source, node.id) for source in _node_reads(node))
        if isinstance(node, ir.BranchNode):
            for case in node.cases:
                edges.extend((node.id, inner.id) for inner in case.nodes)
            inner_of[node.id] = [inner.id for inner in node.inner_nodes()]
    for variable in spec.outputs:
        boxes.append(_Box(f"out:{variable.name}", variable.name, "output"))
        edges.extend((s, f"out:{variable.name}") for s in _sources(spec.output_bindings[variable.name]))
    for source, target in edges:
        hidden.extend((inner, target) for inner in inner_of.get(source, ()) if inner != target)
    known = {box.id for box in boxes}
    edges = [e for e in dict.fromkeys(edges) if e[0] in known and e[1] in known]
    hidden = [e for e in dict.fromkeys(hidden) if e[0] in known and e[1] in known]
    return boxes, edges, hidden


def _columns(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path depth of every box (the spec is acyclic; a cycle would stop at len(ids))."""
    parents: dict[str, list[str]] = {i: [] for i in ids}
    for source, target in edges:
        parents[target].append(source)
    depth: dict[str, int] = {}

    def visit(box: str, seen: frozenset[str]) -> int:
        if box not in depth:
            ups = [p for p in parents[box] if p not in seen]
            depth[box] = 1 + max((visit(p, seen | {box}) for p in ups), default=-1)
        return depth[box]

    for box in ids:
        visit(box, frozenset())
    return depth


def layout(spec: ir.WorkflowSpec) -> dict[str, Any]:
    """Positioned boxes and edges of ``spec``'s DAG, with the drawing's size, as JSON data.

    Example:
        >>> drawing = layout(lower(pipeline))  # doctest: +SKIP
        >>> [(box["id"], box["x"], box["y"]) for box in drawing["nodes"]]  # doctest: +SKIP
    """
    boxes, edges, hidden = _graph(spec)
    depth = _columns([b.id for b in boxes], edges + hidden)
    children: dict[str, list[str]] = {}
    for source, target in edges:
        children.setdefault(source, []).append(target)
    for box in boxes:  # an input sits just before its first reader, so its edges stay short
        readers = [depth[c] for c in children.get(box.id, [])]
        if box.kind == "input" and readers:
            depth[box.id] = min(readers) - 1
    on_failure = [b for b in boxes if b.kind == "on_failure"]
    last = max(depth.values(), default=0)
    for box in on_failure:  # runs when the workflow fails: drawn after everything else
        depth[box.id] = last + 1
    columns: dict[int, list[_Box]] = {}
    for box in boxes:
        columns.setdefault(depth[box.id], []).append(box)
    parents: dict[str, list[str]] = {}
    for source, target in edges:
        parents.setdefault(target, []).append(source)
    row: dict[str, float] = {}
    for column in sorted(columns):
        members = columns[column]

        # The mean row of each box's parents, then spec order: stable and short edges.
        def barycentre(pair: tuple[int, _Box]) -> tuple[float, int]:
            placed_parents = [row[p] for p in parents.get(pair[1].id, []) if p in row]
            mean = sum(placed_parents) / len(placed_parents) if placed_parents else float(pair[0])
            return mean, pair[0]

        for index, (_, box) in enumerate(sorted(enumerate(members), key=barycentre)):
            row[box.id] = index
    tallest = max((len(m) for m in columns.values()), default=1)
    placed = []
    for column, members in sorted(columns.items()):
        offset = (tallest - len(members)) * (BOX_HEIGHT + ROW_GAP) / 2
        for box in members:
            x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP)
            y = MARGIN + int(offset + row[box.id] * (BOX_HEIGHT + ROW_GAP))
            placed.append(_Box(box.id, box.label, box.kind, x, y))
    placed.sort(key=lambda b: (b.x, b.y))
    return {
        "nodes": [asdict(b) for b in placed],
        "edges": [{"source": s, "target": t} for s, t in edges],
        "width": 2 * MARGIN + (len(columns) or 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP,
        "height": 2 * MARGIN + tallest * (BOX_HEIGHT + ROW_GAP) - ROW_GAP,
        "box": {"width": BOX_WIDTH, "height": BOX_HEIGHT},
    }
