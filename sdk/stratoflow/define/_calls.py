"""What a workflow body records: one call record per node (a task, a map, a sub-workflow, a
gate; conditionals' :class:`BranchCall` is in ``_condition``), in the order they were made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias

from stratoflow import ir

if TYPE_CHECKING:
    from stratoflow.define._condition import BranchCall
    from stratoflow.define._task import TaskDef
    from stratoflow.define._workflow import WorkflowDef

__all__ = ["Call", "GateCall", "MapCall", "MapOptions", "TaskCall", "WorkflowCall"]


# The recorded calls are NamedTuples, not frozen dataclasses: immutable values either way, and
# these load with every `import stratoflow`, where a dataclass's generated methods (six, each
# compiled at import) cost four times a NamedTuple's making.
class TaskCall(NamedTuple):
    """A task called in a workflow body: one node."""

    node_id: str
    target: TaskDef[Any, Any]
    inputs: dict[str, ir.Binding]
    location: ir.SourceLocation
    kind: Literal["task"] = "task"
    after: tuple[str, ...] = ()


class MapOptions(NamedTuple):
    """How a map fans out (the MapNode fields of the same names)."""

    concurrency: int | None = None
    min_success_ratio: float = 1.0
    batch_size: int | None = None
    processes: bool = False


class MapCall(NamedTuple):
    """A task mapped over the list inputs named in ``mapped``."""

    node_id: str
    target: TaskDef[Any, Any]
    inputs: dict[str, ir.Binding]
    location: ir.SourceLocation
    mapped: tuple[str, ...]
    options: MapOptions
    kind: Literal["map"] = "map"
    after: tuple[str, ...] = ()


class WorkflowCall(NamedTuple):
    """A sub-workflow called in a workflow body (inlined when lowering)."""

    node_id: str
    target: WorkflowDef[Any, Any]
    inputs: dict[str, ir.Binding]
    location: ir.SourceLocation
    kind: Literal["workflow"] = "workflow"
    after: tuple[str, ...] = ()


class GateCall(NamedTuple):
    """``sleep``, ``wait_for_input`` or ``approve`` in a workflow body (the GateNode fields)."""

    node_id: str
    gate: Literal["sleep", "input", "approve"]
    name: str
    seconds: int
    type: ir.TypeRef | None
    inputs: dict[str, ir.Binding]
    location: ir.SourceLocation
    kind: Literal["gate"] = "gate"
    after: tuple[str, ...] = ()


# One recorded call; ``kind`` tells them apart (match on the class, or narrow on ``kind``).
# A string: conditionals' module (BranchCall) loads only with the first conditional or comparison.
Call: TypeAlias = "TaskCall | MapCall | WorkflowCall | BranchCall | GateCall"
