"""The task runner shared by every backend: run one node, anywhere.

Exports what the backends and the client use. The AWS event shell the handlers call is
its own module, ``stratoflow.runtime.aws`` (imported explicitly, never from here).

Each name loads its module on first use: a run loads what its nodes need (a plain map never
imports the actor, dynamic, gate or branch machinery), not the whole runner.
"""

from typing import TYPE_CHECKING

from stratoflow._lazy import module_getattr

if TYPE_CHECKING:
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
        announce_local_gate,
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

# Each exported name, and the module it comes from.
_LAZY = {
    "AttemptReply": "_actor",
    "InMemoryOutputStore": "_outputs",
    "LocalRunStorage": "_run_storage",
    "NodeCache": "_context",
    "NodeContext": "_context",
    "OutputStore": "_outputs",
    "Recovery": "_recovery",
    "announce_local_gate": "_gates",
    "attempt_outputs": "_actor",
    "caught_error": "_failure",
    "decide_branch": "_branch",
    "dispatch_attempt": "_actor",
    "encode_inputs": "_inputs",
    "finish_branch": "_branch",
    "finish_dynamic": "_dynamic",
    "finish_gate": "_gates",
    "gate_rejected": "_gates",
    "gather_map": "_map",
    "plan_dynamic": "_dynamic",
    "prepare_map": "_map",
    "record_failure": "_failure",
    "recovered_items": "_recovery",
    "recovered_outputs": "_recovery",
    "recovered_run_id": "_recovery",
    "run_attempt": "_actor",
    "run_map_items": "_map",
    "run_node": "_runner",
    "send_local_signal": "_gates",
    "signal_body": "_gates",
    "skipped_nodes": "_branch",
    "sub_run_id": "_dynamic",
    "task_context": "_actor",
    "timeout_error": "_timeouts",
    "untaken_nodes": "_branch",
    "validate_inputs": "_inputs",
    "wait_local_signal": "_gates",
    "waiting_gate": "_gates",
    "with_attempts": "_retry",
    "with_retries": "_timeouts",
    "workflow_outputs": "_runner",
}

__all__ = [
    "AttemptReply",
    "InMemoryOutputStore",
    "LocalRunStorage",
    "NodeCache",
    "NodeContext",
    "OutputStore",
    "Recovery",
    "announce_local_gate",
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


__getattr__ = module_getattr(__name__, _LAZY, globals())
