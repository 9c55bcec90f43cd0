"""The typed intermediate representation every backend consumes (frozen records, JSON, versioned).

``protocol`` is the wire contract around it: events, results, S3 layout, placeholders.

The models (and ``protocol``) load on first attribute access (``ir.TaskSpec``), not on ``from stratoflow import
ir``: pydantic's import and model classes are most of ``import stratoflow``'s time, and a
program that only imports stratoflow (a CLI's ``--help``, a module defining nothing yet)
should not pay for them.
"""

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from stratoflow._frozen_heap import loading

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
        TypeKind,
        TypeRef,
        Variable,
        WorkflowSpec,
    )
    from stratoflow.ir._node_record import LogLocation, NodeRecord
    from stratoflow.ir._node_status import NodeStatus
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
    "TypeKind",
    "TypeRef",
    "Variable",
    "WorkflowSpec",
    "protocol",
]

_PLAN_MODELS = frozenset({"LaunchPlanSpec", "NotificationSpec", "ScheduleSpec"})
_RECORD_MODELS = frozenset({"LogLocation", "NodeRecord"})


def _submodule(name: str) -> ModuleType:
    """``stratoflow.ir.<name>``, loaded (with pydantic, the first time) as one batch of the
    process's long-lived modules (see stratoflow._frozen_heap)."""
    qualified = f"stratoflow.ir.{name}"
    if qualified in sys.modules:
        # Through the import system, not sys.modules: while another thread still runs the
        # module (two tasks decoding their first blob at once), it waits for it to finish
        # instead of handing back the half-made module.
        return importlib.import_module(qualified)
    with loading():
        return importlib.import_module(qualified)


def __getattr__(name: str) -> Any:
    # Each module loads pydantic, so on first use (see the module's docstring).
    if name == "protocol":
        value: Any = _submodule("_protocol")
    elif name in _PLAN_MODELS:
        value = getattr(_submodule("_plans"), name)
    elif name in _RECORD_MODELS:
        value = getattr(_submodule("_node_record"), name)
    elif name == "NodeStatus":  # without the records' models: a local run writes records by hand
        value = getattr(_submodule("_node_status"), name)
    elif name in __all__:
        value = getattr(_submodule("_models"), name)
    else:
        raise AttributeError(f"module 'stratoflow.ir' has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value
