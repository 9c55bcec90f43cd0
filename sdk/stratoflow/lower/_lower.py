"""Turn a :class:`~stratoflow.define.WorkflowDef` into an :class:`~stratoflow.ir.WorkflowSpec`.

Sub-workflows are inlined: an inner node ``n`` of sub-workflow node ``s`` becomes
``s__n``, its workflow inputs become the bindings the caller passed, and the caller's
uses of the sub-workflow's outputs point at the inner nodes. Backends see one flat DAG.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from stratoflow import ir
from stratoflow.define import MapCall, TaskDef, WorkflowCall, WorkflowDef

__all__ = ["lower"]

_CACHE: WeakKeyDictionary[WorkflowDef[Any, Any], ir.WorkflowSpec] = WeakKeyDictionary()


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[ir.TaskNode | ir.MapNode] = []
        self.tasks: dict[str, ir.TaskSpec] = {}

    def task_key(self, target: TaskDef[Any, Any]) -> str:
        key, n = target.spec.name, 1
        while key in self.tasks and self.tasks[key].ref != target.spec.ref:
            n += 1
            key = f"{target.spec.name}_{n}"
        self.tasks[key] = target.spec
        return key

    def inline(
        self, wf: WorkflowDef[Any, Any], prefix: str, inputs: dict[str, ir.Binding]
    ) -> dict[str, ir.Binding]:
        sub_outputs: dict[str, dict[str, ir.Binding]] = {}

        def remap(binding: ir.Binding) -> ir.Binding:
            if isinstance(binding, ir.PromiseBinding):
                if binding.node in sub_outputs:
                    return sub_outputs[binding.node][binding.output]
                return ir.PromiseBinding(node=prefix + binding.node, output=binding.output)
            if isinstance(binding, ir.InputBinding):
                return inputs[binding.name]
            if isinstance(binding, ir.ListBinding):
                return ir.ListBinding(items=tuple(remap(item) for item in binding.items))
            if isinstance(binding, ir.DictBinding):
                return ir.DictBinding(entries={k: remap(v) for k, v in binding.entries.items()})
            return binding

        for call in wf.calls:
            bound = {name: remap(b) for name, b in call.inputs.items()}
            node_id = prefix + call.node_id
            if isinstance(call, WorkflowCall):
                sub_inputs = dict(bound)
                for variable in call.target.interface.inputs:
                    if variable.name not in sub_inputs:
                        sub_inputs[variable.name] = ir.LiteralBinding(value=variable.default)
                sub_outputs[call.node_id] = self.inline(call.target, node_id + "__", sub_inputs)
            elif isinstance(call, MapCall):
                options = call.options
                self.nodes.append(
                    ir.MapNode(
                        id=node_id,
                        task=self.task_key(call.target),
                        inputs=bound,
                        mapped=call.mapped,
                        location=call.location,
                        concurrency=options.concurrency,
                        min_success_ratio=options.min_success_ratio,
                        batch_size=options.batch_size,
                        processes=options.processes,
                    )
                )
            else:
                self.nodes.append(
                    ir.TaskNode(
                        id=node_id, task=self.task_key(call.target), inputs=bound, location=call.location
                    )
                )
        return {name: remap(b) for name, b in wf.output_bindings.items()}


def lower(wf: WorkflowDef[Any, Any]) -> ir.WorkflowSpec:
    """The IR of a workflow (computed once per workflow object)."""
    cached = _CACHE.get(wf)
    if cached is not None:
        return cached
    builder = _Builder()
    top_inputs: dict[str, ir.Binding] = {v.name: ir.InputBinding(name=v.name) for v in wf.interface.inputs}
    outputs = builder.inline(wf, "", top_inputs)
    spec = ir.WorkflowSpec(
        name=wf.name,
        ref=wf.ref,
        inputs=wf.interface.inputs,
        outputs=wf.interface.outputs,
        output_style=wf.interface.output_style,
        output_bindings=outputs,
        nodes=tuple(builder.nodes),
        tasks=builder.tasks,
        triggers=wf.triggers,
        location=wf.location,
    )
    _CACHE[wf] = spec
    return spec
