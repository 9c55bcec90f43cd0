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
    return []


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
    for node in spec.nodes:
        task = spec.tasks[node.task]
        if isinstance(node, ir.MapNode):
            lines.append(f'  {node.id}[["map {_label(task.name)}"]]')
        else:
            lines.append(f'  {node.id}["{_label(task.name)}"]')

    def edges(binding: ir.Binding, target: str) -> None:
        lines.extend(f"  {source} --> {target}" for source in _sources(binding))

    for node in spec.nodes:
        for binding in node.inputs.values():
            edges(binding, node.id)
    for variable in spec.outputs:
        lines.append(f'  out_{variable.name}[/"{_label(variable.name)}: {_label(variable.type.render())}"/]')
        edges(spec.output_bindings[variable.name], f"out_{variable.name}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
