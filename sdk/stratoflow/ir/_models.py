"""The IR of a compiled workflow: pure data (frozen records, ``_record``), versioned, no callables.

Every backend (local executor, ASL compiler, graph view) reads these models and nothing
else, so compiling is a pure function of a :class:`WorkflowSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from stratoflow._frozen_heap import freeze_loaded
from stratoflow.ir._notifications import NotificationSpec
from stratoflow.ir._record import JsonValue, Record, tagged_union
from stratoflow.ir._task_spec import (  # the task half, re-exported
    ActorRef,
    CachePolicy,
    ImageRef,
    ResourcesSpec,
    SecretRequest,
    SourceLocation,
    TaskSpec,
    TypeKind,
    TypeRef,
    Variable,
)

__all__ = [
    "SCHEMA_VERSION",
    "ActorRef",
    "Binding",
    "BoolOp",
    "BranchCase",
    "BranchNode",
    "CachePolicy",
    "Comparison",
    "Condition",
    "DictBinding",
    "ElementBinding",
    "FailurePolicy",
    "GateNode",
    "ImageRef",
    "InputBinding",
    "JsonValue",
    "ListBinding",
    "LiteralBinding",
    "MapNode",
    "Node",
    "PromiseBinding",
    "ResourcesSpec",
    "SecretRequest",
    "SourceLocation",
    "TaskNode",
    "TaskSpec",
    "TriggerSpec",
    "TypeKind",
    "TypeRef",
    "Variable",
    "WorkflowSpec",
]

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class PromiseBinding(Record):
    """The value of output ``output`` of node ``node``."""

    kind: Literal["promise"] = "promise"
    node: str
    output: str


@dataclass(frozen=True, kw_only=True)
class InputBinding(Record):
    """The value of workflow input ``name``."""

    kind: Literal["input"] = "input"
    name: str


@dataclass(frozen=True, kw_only=True)
class LiteralBinding(Record):
    """A constant from the workflow body, already encoded to JSON by the value codec."""

    kind: Literal["literal"] = "literal"
    value: JsonValue


@dataclass(frozen=True, kw_only=True)
class ListBinding(Record):
    """A list built in the workflow body from promises and constants."""

    kind: Literal["list"] = "list"
    items: tuple[Binding, ...]


@dataclass(frozen=True, kw_only=True)
class DictBinding(Record):
    """A dict built in the workflow body from promises and constants, keyed by its keys' JSON text."""

    kind: Literal["dict"] = "dict"
    entries: dict[str, Binding]


@dataclass(frozen=True, kw_only=True)
class ElementBinding(Record):
    """One item of a value: Flyte's ``out[0]``, ``out["k"]``, ``out.field`` in a workflow body.

    ``of`` is the container and ``type`` its type (a list, dict, dataclass or pydantic model);
    ``key`` is a list index, a dict key's JSON text (as the codec writes dict keys) or a field
    name; ``item_type`` is the item's type. Only specs that index a promise hold one, so other
    specs keep their bytes.
    """

    kind: Literal["element"] = "element"
    of: Binding
    type: TypeRef
    key: int | str
    item_type: TypeRef


if TYPE_CHECKING:
    Binding: TypeAlias = (
        PromiseBinding | InputBinding | LiteralBinding | ListBinding | DictBinding | ElementBinding
    )
else:  # told apart by their ``kind`` when pydantic validates one (``_record.tagged_union``)
    Binding = tagged_union(
        "Binding", PromiseBinding, InputBinding, LiteralBinding, ListBinding, DictBinding, ElementBinding
    )


@dataclass(frozen=True, kw_only=True)
class _Ordered(Record):
    """A node that may also run after nodes it reads nothing from (``a >> b``)."""

    after: tuple[str, ...] = ()

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        # Dropped when empty, so specs without ordering edges keep their bytes (and spec keys).
        if not data.get("after"):
            data.pop("after", None)
        return data


@dataclass(frozen=True, kw_only=True)
class TaskNode(_Ordered):
    """One call of a task in a workflow."""

    kind: Literal["task"] = "task"
    id: str
    task: str  # key into WorkflowSpec.tasks
    inputs: dict[str, Binding]
    location: SourceLocation

    def upstream(self) -> list[str]:
        """Ids of the nodes whose outputs this node reads (then its ``after``), no duplicates."""
        return list(dict.fromkeys([*_upstream(self.inputs.values()), *self.after]))


@dataclass(frozen=True, kw_only=True)
class MapNode(_Ordered):
    """A task mapped over one or more list inputs (zipped), other inputs broadcast."""

    kind: Literal["map"] = "map"
    id: str
    task: str
    inputs: dict[str, Binding]
    mapped: tuple[str, ...]
    concurrency: int | None = None
    min_success_ratio: float = 1.0
    batch_size: int | None = None
    # Local runs only: items in worker processes (CPU-bound tasks); AWS runs each in a Lambda anyway.
    processes: bool = False
    location: SourceLocation

    def upstream(self) -> list[str]:
        """Ids of the nodes whose outputs this node reads (then its ``after``)."""
        return list(dict.fromkeys([*_upstream(self.inputs.values()), *self.after]))


CompareOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "is_true", "is_false", "is_none"]


@dataclass(frozen=True, kw_only=True)
class Comparison(Record):
    """``left <op> right`` (``right`` is None for the unary ``is_true``/``is_false``/``is_none``).

    Each operand carries the type it is decoded with; both are scalars (checked when defining).
    """

    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Binding
    left_type: TypeRef
    right: Binding | None = None
    right_type: TypeRef | None = None


@dataclass(frozen=True, kw_only=True)
class BoolOp(Record):
    """``left & right`` (``and``) or ``left | right`` (``or``)."""

    kind: Literal["and", "or"]
    left: Condition
    right: Condition


if TYPE_CHECKING:
    Condition: TypeAlias = Comparison | BoolOp
else:
    Condition = tagged_union("Condition", Comparison, BoolOp)


@dataclass(frozen=True, kw_only=True)
class BranchCase(Record):
    """One arm of a conditional: its condition (None: ``else_``), its nodes, and what it returns.

    A case with ``fail`` set fails the run with that message when taken (Flyte's ``.fail()``).
    """

    condition: Condition | None = None
    nodes: tuple[Node, ...] = ()
    outputs: dict[str, Binding] = field(default_factory=dict)
    fail: str | None = None


@dataclass(frozen=True, kw_only=True)
class BranchNode(_Ordered):
    """Flyte's ``conditional()``: the first case whose condition holds runs; the others are skipped.

    Its outputs (named like the taken case's ``outputs``) are the taken case's values. Nodes
    inside cases have ids unique in the whole spec, so runners find them like any other node.
    """

    kind: Literal["branch"] = "branch"
    id: str
    name: str
    outputs: tuple[Variable, ...] = ()
    cases: tuple[BranchCase, ...]
    location: SourceLocation

    def inner_nodes(self) -> list[TaskNode | MapNode | BranchNode | GateNode]:
        """Every node inside the cases, nested conditionals' included."""
        found: list[TaskNode | MapNode | BranchNode | GateNode] = []
        for case in self.cases:
            for node in case.nodes:
                found.append(node)
                if isinstance(node, BranchNode):
                    found.extend(node.inner_nodes())
        return found

    def upstream(self) -> list[str]:
        """Nodes outside the conditional that its conditions, cases or outputs read."""
        inner = {node.id for node in self.inner_nodes()}
        reads: list[str] = []
        for case in self.cases:
            if case.condition is not None:
                reads.extend(_condition_upstream(case.condition))
            reads.extend(_upstream(case.outputs.values()))
            for node in case.nodes:
                reads.extend(node.upstream())
        return [n for n in dict.fromkeys([*reads, *self.after]) if n not in inner]


def _condition_upstream(condition: Comparison | BoolOp) -> list[str]:
    if isinstance(condition, BoolOp):
        return [*_condition_upstream(condition.left), *_condition_upstream(condition.right)]
    return _upstream([b for b in (condition.left, condition.right) if b is not None])


@dataclass(frozen=True, kw_only=True)
class GateNode(_Ordered):
    """Flyte's gates: ``sleep`` (wait ``seconds``), ``wait_for_input`` and ``approve`` (wait for a signal).

    A signal gate waits at most ``seconds`` for the signal ``name`` of its run; its output
    ``o0`` is the signal's value (``input``, decoded as ``type``) or, once approved, its
    ``inputs["value"]`` passed through (``approve``). A sleep has no output.
    """

    kind: Literal["gate"] = "gate"
    id: str
    gate: Literal["sleep", "input", "approve"]
    name: str = ""
    seconds: int
    type: TypeRef | None = None
    inputs: dict[str, Binding] = field(default_factory=dict)
    location: SourceLocation

    def upstream(self) -> list[str]:
        """Ids of the nodes whose outputs this node reads (then its ``after``)."""
        return list(dict.fromkeys([*_upstream(self.inputs.values()), *self.after]))


if TYPE_CHECKING:
    Node: TypeAlias = TaskNode | MapNode | BranchNode | GateNode
else:
    Node = tagged_union("Node", TaskNode, MapNode, BranchNode, GateNode)


@dataclass(frozen=True, kw_only=True)
class TriggerSpec(Record):
    """Start the workflow when an object lands in S3 under ``prefix`` (``input`` gets the File)."""

    kind: Literal["s3"] = "s3"
    prefix: str = ""
    suffix: str = ""
    input: str


# Flyte's WorkflowFailurePolicy: stop at the first failure, or let independent nodes run first.
FailurePolicy = Literal["fail_immediately", "fail_after_executable_nodes_complete"]


@dataclass(frozen=True, kw_only=True)
class WorkflowSpec(Record):
    """A whole workflow: interface, nodes in topological order, and the tasks they call.

    Sub-workflows are inlined when lowering (node ids are prefixed with the calling
    node's id), so every backend sees one flat DAG.
    """

    schema_version: int = SCHEMA_VERSION
    name: str
    ref: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    output_style: Literal["none", "single", "tuple", "namedtuple"] = "single"
    output_bindings: dict[str, Binding]
    nodes: tuple[Node, ...]
    tasks: dict[str, TaskSpec]
    triggers: tuple[TriggerSpec, ...] = ()
    # @workflow(notifications=...): who hears of every run's end (a launch plan's are the plan's).
    notifications: tuple[NotificationSpec, ...] = ()
    # Flyte's failure node: runs (with the workflow's inputs) when the workflow fails.
    on_failure: TaskNode | None = None
    failure_policy: FailurePolicy = "fail_immediately"
    location: SourceLocation

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        # Dropped when unset, so specs without failure handling keep their bytes (and spec keys).
        if data.get("on_failure") is None:
            data.pop("on_failure", None)
        if data.get("failure_policy") == "fail_immediately":
            data.pop("failure_policy", None)
        if not data.get("notifications"):
            data.pop("notifications", None)
        return data

    def all_nodes(self) -> list[TaskNode | MapNode | BranchNode | GateNode]:
        """Every node, those inside conditionals included (each after its conditional), then on_failure."""
        found: list[TaskNode | MapNode | BranchNode | GateNode] = []
        for node in self.nodes:
            found.append(node)
            if isinstance(node, BranchNode):
                found.extend(node.inner_nodes())
        if self.on_failure is not None:
            found.append(self.on_failure)
        return found

    def task_nodes(self) -> list[TaskNode | MapNode]:
        """The top-level nodes that call a task (all of them in a spec without conditionals or gates)."""
        return [node for node in self.nodes if isinstance(node, (TaskNode, MapNode))]

    def node(self, node_id: str) -> TaskNode | MapNode:
        """The task or map node ``node_id``, also inside conditionals (looked up once per task: O(1))."""
        found = self._index()[node_id]
        if isinstance(found, BranchNode):
            raise KeyError(f"node '{node_id}' is a conditional, not a task node")
        if isinstance(found, GateNode):
            raise KeyError(f"node '{node_id}' is a gate, not a task node")
        return found

    def is_gate(self, node_id: str) -> bool:
        """Whether node ``node_id`` is a gate (O(1), as :meth:`node`)."""
        return isinstance(self._index().get(node_id), GateNode)

    def gate(self, node_id: str) -> GateNode:
        """The gate ``node_id``."""
        found = self._index()[node_id]
        if not isinstance(found, GateNode):
            raise KeyError(f"node '{node_id}' is a {found.kind} node, not a gate")
        return found

    def branch(self, node_id: str) -> BranchNode:
        """The conditional ``node_id``."""
        found = self._index()[node_id]
        if not isinstance(found, BranchNode):
            raise KeyError(f"node '{node_id}' is a {found.kind} node, not a conditional")
        return found

    def _index(self) -> dict[str, TaskNode | MapNode | BranchNode | GateNode]:
        cached = _NODE_INDEX.get(id(self))
        if cached is None or cached[0] is not self:
            cached = (self, {candidate.id: candidate for candidate in self.all_nodes()})
            _NODE_INDEX[id(self)] = cached
        return cached[1]


# id(spec) -> (spec, index). Kept outside the model so indexing never changes equality;
# holding the spec keeps its id from being reused. Processes see a handful of specs.
_NODE_INDEX: dict[int, tuple[WorkflowSpec, dict[str, TaskNode | MapNode | BranchNode | GateNode]]] = {}


def _upstream(bindings: object) -> list[str]:
    seen: dict[str, None] = {}
    stack = list(bindings)  # type: ignore[call-overload]
    while stack:
        binding = stack.pop(0)
        if isinstance(binding, PromiseBinding):
            seen.setdefault(binding.node)
        elif isinstance(binding, ListBinding):
            stack[0:0] = list(binding.items)
        elif isinstance(binding, DictBinding):
            stack[0:0] = list(binding.entries.values())
        elif isinstance(binding, ElementBinding):
            stack.insert(0, binding.of)
    return list(seen)


# The annotations are text until pydantic builds a schema: the self-references (TypeRef.args,
# the nested bindings) resolve from this module's namespace then.

# The IR's classes are built: out of every later collection (see the module).
freeze_loaded()
