"""Graph view: a workflow's IR as Mermaid flowchart text."""

from __future__ import annotations

from stratoflow import ir

__all__ = ["to_mermaid"]


def _label(text: str) -> str:
    return text.replace('"', "'")


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
        if isinstance(binding, ir.PromiseBinding):
            lines.append(f"  {binding.node} --> {target}")
        elif isinstance(binding, ir.InputBinding):
            lines.append(f"  in_{binding.name} --> {target}")
        elif isinstance(binding, ir.ListBinding):
            for item in binding.items:
                edges(item, target)
        elif isinstance(binding, ir.DictBinding):
            for entry in binding.entries.values():
                edges(entry, target)

    for node in spec.nodes:
        for binding in node.inputs.values():
            edges(binding, node.id)
    for variable in spec.outputs:
        lines.append(f'  out_{variable.name}[/"{_label(variable.name)}: {_label(variable.type.render())}"/]')
        edges(spec.output_bindings[variable.name], f"out_{variable.name}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
