"""Graph view: a workflow's IR as Mermaid flowchart text."""

from __future__ import annotations

from stratoflow import ir

__all__ = ["to_mermaid"]


def _label(text: str) -> str:
    return text.replace('"', "'")


def _sources(binding: ir.Binding) -> list[str]:
    """The graph ids a binding reads from (nodes and inputs), through lists and dicts."""
    if isinstance(binding, ir.PromiseBinding):
        return [binding.node]
    if isinstance(binding, ir.InputBinding):
        return [f"in_{binding.name}"]
    if isinstance(binding, ir.ListBinding):
        return [source for item in binding.items for source in _sources(item)]
    if isinstance(binding, ir.DictBinding):
        return [source for entry in binding.entries.values() for source in _sources(entry)]
    if isinstance(binding, ir.ElementBinding):
        return _sources(binding.of)
    return []


def _node_line(spec: ir.WorkflowSpec, node: ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode) -> str:
    if isinstance(node, ir.BranchNode):
        return f'  {node.id}{{"conditional {_label(node.name)}"}}'
    if isinstance(node, ir.MapNode):
        return f'  {node.id}[["map {_label(spec.tasks[node.task].name)}"]]'
    if isinstance(node, ir.GateNode):
        return f'  {node.id}(["{node.gate} {_label(node.name or f"{node.seconds}s")}"])'
    return f'  {node.id}["{_label(spec.tasks[node.task].name)}"]'


def to_mermaid(spec: ir.WorkflowSpec) -> str:
    """Mermaid ``flowchart`` of the DAG: inputs, nodes (maps as subroutines), outputs.

    Example:
        >>> print(to_mermaid(lower(pipeline)))  # doctest: +SKIP
        flowchart TD
          ...
    """
    lines = ["flowchart TD"]
    for variable in spec.inputs:
        lines.append(f'  in_{variable.name}[/"{_label(variable.name)}: {_label(variable.type.render())}"/]')
    every = spec.all_nodes()
    lines.extend(_node_line(spec, node) for node in every)

    def edges(binding: ir.Binding, target: str) -> None:
        lines.extend(f"  {source} --> {target}" for source in _sources(binding))

    for node in every:
        if isinstance(node, ir.BranchNode):
            # Each case hangs off the conditional (dotted); its values flow into the conditional.
            for case in node.cases:
                lines.extend(f"  {node.id} -.-> {inner.id}" for inner in case.nodes)
                for binding in case.outputs.values():
                    edges(binding, node.id)
        else:
            for binding in node.inputs.values():
                edges(binding, node.id)
        lines.extend(f"  {up} --> {node.id}" for up in node.after)
    for variable in spec.outputs:
        lines.append(f'  out_{variable.name}[/"{_label(variable.name)}: {_label(variable.type.render())}"/]')
        edges(spec.output_bindings[variable.name], f"out_{variable.name}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
