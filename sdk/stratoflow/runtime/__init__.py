"""The task runner shared by every backend: run one node, anywhere."""

from stratoflow.runtime._aws import (
    AwsRunnerEnv,
    NodeEvent,
    RunnerSettings,
    run_node_event,
    step_functions_error,
)
from stratoflow.runtime._boundary import call_user
from stratoflow.runtime._dynamic import (
    DAG_BATCH,
    DynamicPlan,
    finish_dynamic,
    plan_dynamic,
    prefix_spec,
    sub_run_id,
)
from stratoflow.runtime._inputs import encode_inputs, validate_inputs
from stratoflow.runtime._map import (
    ItemResult,
    MapStore,
    gather_map,
    map_output_type,
    prepare_map,
    run_map_items,
)
from stratoflow.runtime._outputs import InMemoryOutputStore, OutputStore
from stratoflow.runtime._retry import backoff_seconds
from stratoflow.runtime._runner import (
    NodeContext,
    NodeResult,
    encode_outputs,
    literal_from_constant,
    lookup_node_cache,
    node_inputs,
    resolve_binding,
    run_node,
    run_task,
)
from stratoflow.runtime._triggers import (
    S3ObjectEvent,
    TriggerOutcome,
    TriggerSettings,
    TriggerTarget,
    execution_name,
    key_matches,
    start_triggered_runs,
    targets_json,
)

__all__ = [
    "DAG_BATCH",
    "AwsRunnerEnv",
    "DynamicPlan",
    "InMemoryOutputStore",
    "ItemResult",
    "MapStore",
    "NodeContext",
    "NodeEvent",
    "NodeResult",
    "OutputStore",
    "RunnerSettings",
    "S3ObjectEvent",
    "TriggerOutcome",
    "TriggerSettings",
    "TriggerTarget",
    "backoff_seconds",
    "call_user",
    "encode_inputs",
    "encode_outputs",
    "execution_name",
    "finish_dynamic",
    "gather_map",
    "key_matches",
    "literal_from_constant",
    "lookup_node_cache",
    "map_output_type",
    "node_inputs",
    "plan_dynamic",
    "prefix_spec",
    "prepare_map",
    "resolve_binding",
    "run_map_items",
    "run_node",
    "run_node_event",
    "run_task",
    "start_triggered_runs",
    "step_functions_error",
    "sub_run_id",
    "targets_json",
    "validate_inputs",
]
