"""Turn a :class:`~stratoflow.define.WorkflowDef` into an :class:`~stratoflow.ir.WorkflowSpec`.

Sub-workflows are inlined: an inner node ``n`` of sub-workflow node ``s`` becomes
``s__n``, its workflow inputs become the bindings the caller passed, and the caller's
uses of the sub-workflow's outputs point at the inner nodes. Backends see one flat DAG.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from stratoflow import ir
from stratoflow.define import (
    Call,
    GateCall,
    MapCall,
    TaskDef,
    WorkflowCall,
    WorkflowDef,
    WorkflowFailurePolicy,
)

__all__ = ["lower"]

_POLICIES: dict[WorkflowFailurePolicy, ir.FailurePolicy] = {
    WorkflowFailurePolicy.FAIL_IMMEDIATELY: "fail_immediately",
    WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE: "fail_after_executable_nodes_complete",
}
_CACHE: WeakKeyDictionary[WorkflowDef[Any, Any], ir.WorkflowSpec] = WeakKeyDictionary()


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode] = []
        self.tasks: dict[str, ir.TaskSpec] = {}

    def task_key(self, target: TaskDef[Any, Any]) -> str:
        key, n = target.spec.name, 1
        while key in self.tasks and self.tasks[key] != target.spec:
            n += 1
            key = f"{target.spec.name}_{n}"
        self.tasks[key] = target.spec
        return key

    def inline(
        self, wf: WorkflowDef[Any, Any], prefix: str, inputs: dict[str, ir.Binding]
    ) -> dict[str, ir.Binding]:
        scope = _Scope(self, prefix, inputs)
        self.nodes.extend(scope.lower_calls(wf.calls))
        return {name: scope.remap(b) for name, b in wf.output_bindings.items()}


class _Scope:
    """One workflow body being inlined: its id prefix, its inputs' bindings, what its calls became."""

    __slots__ = ("builder", "inputs", "made", "prefix", "sub_outputs")

    def __init__(self, builder: _Builder, prefix: str, inputs: dict[str, ir.Binding]) -> None:
        self.builder = builder
        self.prefix = prefix
        self.inputs = inputs
        self.sub_outputs: dict[str, dict[str, ir.Binding]] = {}
        # The concrete node ids each call became (a sub-workflow: all its inlined nodes), for '>>'.
        self.made: dict[str, list[str]] = {}

    def remap(self, binding: ir.Binding) -> ir.Binding:
        if isinstance(binding, ir.PromiseBinding):
            if binding.node in self.sub_outputs:
                return self.sub_outputs[binding.node][binding.output]
            return ir.PromiseBinding.trusted(node=self.prefix + binding.node, output=binding.output)
        if isinstance(binding, ir.InputBinding):
            return self.inputs[binding.name]
        if isinstance(binding, ir.ListBinding):
            return ir.ListBinding.trusted(items=tuple(self.remap(item) for item in binding.items))
        if isinstance(binding, ir.DictBinding):
            return ir.DictBinding.trusted(entries={k: self.remap(v) for k, v in binding.entries.items()})
        if isinstance(binding, ir.ElementBinding):
            return binding.model_copy(update={"of": self.remap(binding.of)})
        return binding

    def remap_condition(self, condition: ir.Comparison | ir.BoolOp) -> ir.Comparison | ir.BoolOp:
        if isinstance(condition, ir.BoolOp):
            left, right = self.remap_condition(condition.left), self.remap_condition(condition.right)
            return condition.model_copy(update={"left": left, "right": right})
        right_binding = None if condition.right is None else self.remap(condition.right)
        return condition.model_copy(update={"left": self.remap(condition.left), "right": right_binding})

    def lower_calls(
        self, calls: tuple[Call, ...]
    ) -> list[ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode]:
        """The nodes ``calls`` become (a conditional's case is lowered into its own list)."""
        builder = self.builder
        outer, builder.nodes = builder.nodes, []
        try:
            for call in calls:
                start = len(builder.nodes)
                self.lower_call(call)
                self.made[call.node_id] = [node.id for node in builder.nodes[start:]]
                after = [node_id for up in call.after for node_id in self.made.get(up, [])]
                if after:  # every node the call became waits (its roots would do; all is simpler)
                    for i in range(start, len(builder.nodes)):
                        node = builder.nodes[i]
                        builder.nodes[i] = node.model_copy(update={"after": (*node.after, *after)})
            return builder.nodes
        finally:
            builder.nodes = outer

    def lower_call(self, call: Call) -> None:
        builder, node_id = self.builder, self.prefix + call.node_id
        if call.kind == "branch":  # by kind: conditionals' module loads only with a conditional
            cases = tuple(
                ir.BranchCase.trusted(
                    condition=None if case.condition is None else self.remap_condition(case.condition),
                    nodes=tuple(self.lower_calls(case.calls)),
                    outputs={name: self.remap(b) for name, b in case.outputs.items()},
                    fail=case.fail,
                )
                for case in call.cases
            )
            builder.nodes.append(
                ir.BranchNode.trusted(
                    id=node_id, name=call.name, outputs=call.outputs, cases=cases, location=call.location
                )
            )
            return
        bound = {name: self.remap(b) for name, b in call.inputs.items()}
        if isinstance(call, GateCall):
            builder.nodes.append(
                ir.GateNode.trusted(
                    id=node_id,
                    gate=call.gate,
                    name=call.name,
                    seconds=call.seconds,
                    type=call.type,
                    inputs=bound,
                    location=call.location,
                )
            )
        elif isinstance(call, WorkflowCall):
            sub_inputs = dict(bound)
            for variable in call.target.interface.inputs:
                if variable.name not in sub_inputs:
                    sub_inputs[variable.name] = ir.LiteralBinding.trusted(value=variable.default)
            self.sub_outputs[call.node_id] = builder.inline(call.target, node_id + "__", sub_inputs)
        elif isinstance(call, MapCall):
            options = call.options
            builder.nodes.append(
                ir.MapNode.trusted(
                    id=node_id,
                    task=builder.task_key(call.target),
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
            builder.nodes.append(
                ir.TaskNode.trusted(
                    id=node_id, task=builder.task_key(call.target), inputs=bound, location=call.location
                )
            )


def lower(wf: WorkflowDef[Any, Any]) -> ir.WorkflowSpec:
    """The IR of a workflow (computed once per workflow object)."""
    cached = _CACHE.get(wf)
    if cached is not None:
        return cached
    builder = _Builder()
    top_inputs: dict[str, ir.Binding] = {
        v.name: ir.InputBinding.trusted(name=v.name) for v in wf.interface.inputs
    }
    outputs = builder.inline(wf, "", top_inputs)
    on_failure = None
    if wf.on_failure is not None:
        handler = wf.on_failure
        on_failure = ir.TaskNode.trusted(
            id=handler.node_id,
            task=builder.task_key(handler.target),
            inputs=dict(handler.inputs),
            location=wf.location,
        )
    spec = ir.WorkflowSpec.trusted(
        name=wf.name,
        ref=wf.ref,
        inputs=wf.interface.inputs,
        outputs=wf.interface.outputs,
        output_style=wf.interface.output_style,
        output_bindings=outputs,
        nodes=tuple(builder.nodes),
        tasks=builder.tasks,
        triggers=wf.triggers,
        notifications=wf.notifications,
        on_failure=on_failure,
        failure_policy=_POLICIES[wf.failure_policy],
        location=wf.location,
    )
    _CACHE[wf] = spec
    return spec
