"""``compile_workflow``: a :class:`~stratoflow.ir.WorkflowSpec` to Amazon States Language.

A pure, deterministic function: equal IR gives byte-equal ASL. The DAG becomes nested
chains and ``Parallel`` states (``_graph``), each node the states of its compute target
(``_states``), and the result is checked (``_checks``) before it is returned.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratoflow import ir, routing
from stratoflow.backends.asl import _checks, _graph
from stratoflow.backends.asl._actor import actor_fragment, actor_map_states
from stratoflow.backends.asl._branch import branch_fragment
from stratoflow.backends.asl._dynamic import dynamic_states
from stratoflow.backends.asl._failure import guarded_parallel, with_error_record, with_failure_handler
from stratoflow.backends.asl._gates import gate_fragment
from stratoflow.backends.asl._map import map_states
from stratoflow.backends.asl._names import StateNames
from stratoflow.backends.asl._states import Fragment, NodeContext, _cache_check, node_fragment
from stratoflow.errors import CompileError, Problem
from stratoflow.ir import protocol

__all__ = ["CompiledWorkflow", "compile_workflow"]


@dataclass(frozen=True)
class CompiledWorkflow:
    """A workflow compiled to ASL, plus what the deployer needs to install it.

    Attributes:
        name: The workflow's name.
        definition: The ASL definition (JSONPath), with ``${...}`` placeholders.
        spec_key: S3 key under which the deployer stores ``spec_json``; the task runner
            reads the IR from there (:func:`protocol.spec_key`).
        spec_json: Canonical JSON of the WorkflowSpec (sorted keys, compact).
        placeholders: Names the deployer must substitute (``definition_substitutions``),
            sorted, without ``${}``.
        sync_points: Notes on the synchronisation points added to a non-series-parallel
            DAG (for ``--explain``); empty when all parallelism is kept.
    """

    name: str
    definition: dict[str, Any]
    spec_key: str
    spec_json: bytes
    placeholders: tuple[str, ...]
    sync_points: tuple[str, ...]

    def deployed_json(self) -> str:
        """The definition exactly as deployed: sorted keys, compact (what the 1 MB limit counts).

        Example:
            >>> compiled.deployed_json().startswith('{"Comment"')  # doctest: +SKIP
            True
        """
        return json.dumps(self.definition, sort_keys=True, separators=(",", ":"))

    def definition_json(self) -> str:
        """The same definition for people: sorted keys, two-space indent, trailing newline.

        Example:
            >>> compiled.definition_json().startswith("{")  # doctest: +SKIP
            True
        """
        return json.dumps(self.definition, indent=2, sort_keys=True) + "\n"


def compile_workflow(spec: ir.WorkflowSpec) -> CompiledWorkflow:
    """Compile a workflow to one Standard state machine definition.

    Every task node becomes the states of its compute target (``stratoflow.routing``):
    one Lambda ``Task`` invoking the runner, or a cache check plus ``ecs:runTask.sync``
    on Fargate / Fargate Spot (``batch:submitJob.sync`` on AWS Batch). A ``map_task`` node
    becomes prepare, a Distributed Map over item indices read from S3 (EXPRESS children
    for a Lambda task, STANDARD children running one batch per container otherwise), and
    gather (``_map``); a ``@dynamic`` node becomes plan,
    ``startExecution.sync`` of the generic interpreter, and finish (``_dynamic``). Each is
    one node to the planner.
    Independent nodes run in ``Parallel`` branches.

    A definition over Step Functions' 1 MB limit raises rather than being split into
    nested state machines: the message tells the user to split the workflow.

    Args:
        spec: The lowered workflow.

    Returns:
        The definition and what the deployer needs alongside it.

    Raises:
        CompileError: The workflow uses something not compiled to ASL yet (a ``@dynamic``
            task too big for Lambda), a task cannot be routed, or the definition is too large.

    Example:
        >>> from stratoflow.lower import lower
        >>> compiled = compile_workflow(lower(my_workflow))  # doctest: +SKIP
        >>> compiled.definition["StartAt"]  # doctest: +SKIP
        'extract'
    """
    routes = _routes(spec)
    spec_json = protocol.spec_json_bytes(spec)
    spec_key = protocol.spec_key(spec.name, spec_json)
    plan = _graph.decompose([n.id for n in spec.nodes], {n.id: n.upstream() for n in spec.nodes})
    builder = _Builder(spec, routes, spec_key)
    if plan.root is None:
        body = {
            "StartAt": "no_tasks",
            "States": {"no_tasks": {"Type": "Pass", "Next": "succeeded"}, "succeeded": {"Type": "Succeed"}},
        }
    else:
        root = builder.fragment(plan.root)
        if spec.on_failure is not None:
            handler = builder.task_fragment(spec.on_failure)
            if protocol.FAILURE_NODE in spec.on_failure.upstream():  # it reads the error: store it first
                handler = with_error_record(handler, spec.on_failure, spec_key, builder.names)
            root = with_failure_handler(root, handler, builder.names)
        body = _machine(root)
    definition = {"Comment": protocol.definition_comment(spec.name, spec.ref, spec_key), **body}
    # The limit applies to what is deployed: the compact form (see CompiledWorkflow.deployed_json).
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    too_big = _checks.definition_size_problem(spec.name, len(text.encode()))
    if too_big:
        raise CompileError(_problem(too_big, spec.location))
    internal = _checks.check_definition(definition)
    if internal:
        raise CompileError(
            [
                _problem(f"internal compiler error: {problem} (please report this bug)", spec.location)
                for problem in internal
            ]
        )
    return CompiledWorkflow(
        name=spec.name,
        definition=definition,
        spec_key=spec_key,
        spec_json=spec_json,
        placeholders=tuple(sorted(protocol.placeholders_in(text))),
        sync_points=tuple(p.describe() for p in plan.sync_points),
    )


def _problem(message: str, location: ir.SourceLocation, hint: str | None = None) -> Problem:
    return Problem(message, path=location.path, line=location.line, col=location.col, hint=hint)


def _routes(spec: ir.WorkflowSpec) -> dict[str, routing.Route]:
    """Route every node's task; collect every unsupported construct and raise once."""
    problems: list[Problem] = []
    routes: dict[str, routing.Route] = {}
    known: set[str] = {protocol.FAILURE_NODE}  # the run's error, stored before on_failure runs
    for node in spec.all_nodes():
        if isinstance(node, ir.BranchNode | ir.GateNode):  # no task of its own (a case's nodes follow it)
            known.add(node.id)
            continue
        task = spec.tasks.get(node.task)
        if task is None:
            problems.append(_problem(f"node '{node.id}' calls unknown task '{node.task}'", node.location))
        else:
            try:
                routes[node.id] = routing.route_task(task)
            except routing.RoutingError as exc:
                problems.append(_problem(f"task '{task.name}' cannot run on AWS: {exc}", task.location))
            else:
                if task.kind == "dynamic" and routes[node.id].target != "lambda":
                    # The body runs (traced) in the runner Lambda; its tasks run in the interpreter.
                    problems.append(
                        _problem(
                            f"@dynamic task '{task.name}' (node '{node.id}') must fit Lambda: its body "
                            f"runs in the task runner ({routes[node.id].reason})",
                            node.location,
                            hint="lower the dynamic task's requests/timeout; its tasks declare their own",
                        )
                    )
            if (
                isinstance(node, ir.MapNode)
                and node.id in routes
                and routes[node.id].target != "lambda"
                and (node.batch_size or 0) > protocol.MAX_CONTAINER_BATCH
            ):
                problems.append(
                    _problem(
                        f"map node '{node.id}': batch_size={node.batch_size} is more than a container batch "
                        f"takes ({protocol.MAX_CONTAINER_BATCH}: its indices travel in the container's "
                        "environment, which ECS caps at 8 KiB)",
                        node.location,
                    )
                )
        missing = [dep for dep in node.upstream() if dep not in known]
        if missing:
            problems.append(
                _problem(f"node '{node.id}' reads {missing} before they are defined", node.location)
            )
        known.add(node.id)
    if problems:
        raise CompileError(problems)
    return routes


def _machine(fragment: Fragment) -> dict[str, Any]:
    """A ``{StartAt, States}`` scope whose exits end it."""
    for name in fragment.exits:
        fragment.states[name]["End"] = True
    return {"StartAt": fragment.entry, "States": fragment.states}


def _link(fragments: Sequence[Fragment]) -> Fragment:
    states: dict[str, Any] = {}
    for current, following in itertools.pairwise(fragments):
        for name in current.exits:
            current.states[name]["Next"] = following.entry
    for fragment in fragments:
        states.update(fragment.states)
    return Fragment(fragments[0].entry, states, fragments[-1].exits)


class _Builder:
    """Turns plan blocks into fragments, claiming state names in a fixed order."""

    def __init__(self, spec: ir.WorkflowSpec, routes: dict[str, routing.Route], spec_key: str) -> None:
        self.spec = spec
        self.routes = routes
        self.spec_key = spec_key
        every = spec.all_nodes()  # conditionals' inner nodes too
        self.order = {node.id: i for i, node in enumerate(every)}
        self.nodes = {node.id: node for node in every}
        self.names = StateNames()
        # Node states are named first, so each gets its own id whenever that is a valid name.
        self.node_names = {node.id: self.names.claim(node.id) for node in every}

    def fragment(self, block: _graph.Block) -> Fragment:
        if isinstance(block, _graph.Leaf):
            node = self.nodes[block.node]
            if isinstance(node, ir.BranchNode):
                return branch_fragment(self, node)
            if isinstance(node, ir.GateNode):
                return gate_fragment(
                    node, spec_key=self.spec_key, state_name=self.node_names[node.id], names=self.names
                )
            if isinstance(node, ir.MapNode) and self.spec.tasks[node.task].actor is not None:
                entry, states, exit_ = actor_map_states(
                    node,
                    self.spec.tasks[node.task],
                    spec_key=self.spec_key,
                    state_name=self.node_names[node.id],
                    names=self.names,
                )
                return Fragment(entry, states, [exit_])
            if isinstance(node, ir.MapNode):
                entry, states, exit_ = map_states(
                    node,
                    self.spec.tasks[node.task],
                    spec_key=self.spec_key,
                    state_name=self.node_names[node.id],
                    names=self.names,
                    route=self.routes[node.id],
                )
                return Fragment(entry, states, [exit_])
            return self.task_fragment(node)
        if isinstance(block, _graph.Series):
            return _link([self.fragment(part) for part in block.parts])
        first = min(self._leaves(block), key=self.order.__getitem__)
        name = self.names.claim(f"par_{first}", suffix=f"_{len(block.branches)}")
        if self.spec.failure_policy == "fail_after_executable_nodes_complete":
            return guarded_parallel(name, [self.fragment(branch) for branch in block.branches], self.names)
        branches = [_machine(self.fragment(branch)) for branch in block.branches]
        state = {"Type": "Parallel", "Branches": branches, "ResultPath": None}
        return Fragment(name, {name: state}, [name])

    def task_fragment(self, node: ir.TaskNode) -> Fragment:
        """The states of one task node (a plain, @dynamic or actor task)."""
        task = self.spec.tasks[node.task]
        if task.kind == "dynamic":
            entry, states, exit_ = dynamic_states(
                node,
                task,
                spec_key=self.spec_key,
                state_name=self.node_names[node.id],
                names=self.names,
            )
            return Fragment(entry, states, [exit_])
        ctx = NodeContext(
            node=node,
            task=self.spec.tasks[node.task],
            route=self.routes[node.id],
            spec_key=self.spec_key,
            state_name=self.node_names[node.id],
        )
        if task.actor is not None:
            return actor_fragment(
                node,
                task,
                spec_key=self.spec_key,
                state_name=ctx.state_name,
                names=self.names,
                cache_check=lambda states, run_state, done: _cache_check(
                    ctx, self.names, states, run_state=run_state, done=done
                ),
            )
        return node_fragment(ctx, self.names)

    def _leaves(self, block: _graph.Block) -> list[str]:
        if isinstance(block, _graph.Leaf):
            return [block.node]
        children = block.parts if isinstance(block, _graph.Series) else block.branches
        return [leaf for child in children for leaf in self._leaves(child)]
