"""The task runner shared by every backend: run one node, anywhere.

Exports what the backends and the client use. The AWS event shell the handlers call is
its own module, ``stratoflow.runtime.aws`` (imported explicitly, never from here).
"""

from stratoflow.runtime._actor import (
    AttemptReply,
    attempt_outputs,
    dispatch_attempt,
    run_attempt,
    task_context,
)
from stratoflow.runtime._branch import decide_branch, finish_branch, skipped_nodes, untaken_nodes
from stratoflow.runtime._context import NodeCache, NodeContext
from stratoflow.runtime._dynamic import finish_dynamic, plan_dynamic, sub_run_id
from stratoflow.runtime._failure import caught_error, record_failure
from stratoflow.runtime._gates import (
    finish_gate,
    gate_rejected,
    send_local_signal,
    signal_body,
    wait_local_signal,
    waiting_gate,
)
from stratoflow.runtime._inputs import encode_inputs, validate_inputs
from stratoflow.runtime._map import gather_map, prepare_map, run_map_items
from stratoflow.runtime._outputs import InMemoryOutputStore, OutputStore
from stratoflow.runtime._recovery import Recovery, recovered_items, recovered_outputs, recovered_run_id
from stratoflow.runtime._retry import with_attempts
from stratoflow.runtime._run_storage import LocalRunStorage
from stratoflow.runtime._runner import run_node, workflow_outputs
from stratoflow.runtime._timeouts import timeout_error, with_retries

__all__ = [
    "AttemptReply",
    "InMemoryOutputStore",
    "LocalRunStorage",
    "NodeCache",
    "NodeContext",
    "OutputStore",
    "Recovery",
    "attempt_outputs",
    "caught_error",
    "decide_branch",
    "dispatch_attempt",
    "encode_inputs",
    "finish_branch",
    "finish_dynamic",
    "finish_gate",
    "gate_rejected",
    "gather_map",
    "plan_dynamic",
    "prepare_map",
    "record_failure",
    "recovered_items",
    "recovered_outputs",
    "recovered_run_id",
    "run_attempt",
    "run_map_items",
    "run_node",
    "send_local_signal",
    "signal_body",
    "skipped_nodes",
    "sub_run_id",
    "task_context",
    "timeout_error",
    "untaken_nodes",
    "validate_inputs",
    "wait_local_signal",
    "waiting_gate",
    "with_attempts",
    "with_retries",
    "workflow_outputs",
]
