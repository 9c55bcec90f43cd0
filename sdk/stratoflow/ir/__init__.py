"""The typed intermediate representation every backend consumes (pydantic, JSON, versioned).

``protocol`` is the wire contract around it: events, results, S3 layout, placeholders.

The models (and ``protocol``) load on first attribute access (``ir.TaskSpec``), not on ``from stratoflow import
ir``: pydantic's import and model classes are most of ``import stratoflow``'s time, and a
program that only imports stratoflow (a CLI's ``--help``, a module defining nothing yet)
should not pay for them.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratoflow.ir import _protocol as protocol
    from stratoflow.ir._models import (
        SCHEMA_VERSION,
        ActorRef,
        Binding,
        BoolOp,
        BranchCase,
        BranchNode,
        CachePolicy,
        Comparison,
        Condition,
        DictBinding,
        ElementBinding,
        FailurePolicy,
        GateNode,
        ImageRef,
        InputBinding,
        JsonValue,
        ListBinding,
        LiteralBinding,
        MapNode,
        Node,
        PromiseBinding,
        ResourcesSpec,
        SecretRequest,
        SourceLocation,
        TaskNode,
        TaskSpec,
        TriggerSpec,
        TypeRef,
        Variable,
        WorkflowSpec,
    )
    from stratoflow.ir._node_record import LogLocation, NodeRecord, NodeStatus
    from stratoflow.ir._plans import LaunchPlanSpec, NotificationSpec, ScheduleSpec

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
    "LaunchPlanSpec",
    "ListBinding",
    "LiteralBinding",
    "LogLocation",
    "MapNode",
    "Node",
    "NodeRecord",
    "NodeStatus",
    "NotificationSpec",
    "PromiseBinding",
    "ResourcesSpec",
    "ScheduleSpec",
    "SecretRequest",
    "SourceLocation",
    "TaskNode",
    "TaskSpec",
    "TriggerSpec",
    "TypeRef",
    "Variable",
    "WorkflowSpec",
    "protocol",
]

_PLAN_MODELS = frozenset({"LaunchPlanSpec", "NotificationSpec", "ScheduleSpec"})
_RECORD_MODELS = frozenset({"LogLocation", "NodeRecord", "NodeStatus"})


def __getattr__(name: str) -> Any:
    if name == "protocol":
        from stratoflow.ir import _protocol  # noqa: PLC0415 - loads pydantic, so on first use

        globals()["protocol"] = _protocol
        return _protocol
    if name in _PLAN_MODELS:
        from stratoflow.ir import _plans  # noqa: PLC0415 - loads pydantic, so on first use

        plan_model = getattr(_plans, name)
        globals()[name] = plan_model
        return plan_model
    if name in _RECORD_MODELS:
        from stratoflow.ir import _node_record  # noqa: PLC0415 - loads pydantic, so on first use

        record_model = getattr(_node_record, name)
        globals()[name] = record_model
        return record_model
    if name in __all__:
        from stratoflow.ir import _models  # noqa: PLC0415 - the point of this module

        value = getattr(_models, name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'stratoflow.ir' has no attribute {name!r}")
