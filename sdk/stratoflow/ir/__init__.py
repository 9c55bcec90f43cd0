"""The typed intermediate representation every backend consumes (pydantic, JSON, versioned).

``protocol`` is the wire contract around it: events, results, S3 layout, placeholders.
"""

from stratoflow.ir import _protocol as protocol
from stratoflow.ir._models import (
    SCHEMA_VERSION,
    Binding,
    CachePolicy,
    DictBinding,
    InputBinding,
    JsonValue,
    ListBinding,
    LiteralBinding,
    MapNode,
    Node,
    PromiseBinding,
    ResourcesSpec,
    SourceLocation,
    TaskNode,
    TaskSpec,
    TriggerSpec,
    TypeRef,
    Variable,
    WorkflowSpec,
)

__all__ = [
    "SCHEMA_VERSION",
    "Binding",
    "CachePolicy",
    "DictBinding",
    "InputBinding",
    "JsonValue",
    "ListBinding",
    "LiteralBinding",
    "MapNode",
    "Node",
    "PromiseBinding",
    "ResourcesSpec",
    "SourceLocation",
    "TaskNode",
    "TaskSpec",
    "TriggerSpec",
    "TypeRef",
    "Variable",
    "WorkflowSpec",
    "protocol",
]
