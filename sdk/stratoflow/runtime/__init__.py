"""The task runner shared by every backend: run one node, anywhere."""

from stratoflow.runtime._boundary import call_user
from stratoflow.runtime._outputs import InMemoryOutputStore, OutputStore
from stratoflow.runtime._runner import (
    NodeContext,
    NodeResult,
    encode_outputs,
    literal_from_constant,
    node_inputs,
    resolve_binding,
    run_node,
    run_task,
)

__all__ = [
    "InMemoryOutputStore",
    "NodeContext",
    "NodeResult",
    "OutputStore",
    "call_user",
    "encode_outputs",
    "literal_from_constant",
    "node_inputs",
    "resolve_binding",
    "run_node",
    "run_task",
]
