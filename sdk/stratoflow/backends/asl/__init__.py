"""IR -> Amazon States Language: one Standard state machine per workflow.

Example:
    >>> from stratoflow.backends import asl
    >>> compiled = asl.compile_workflow(spec)  # doctest: +SKIP
    >>> print(compiled.definition_json())  # doctest: +SKIP
"""

from stratoflow.backends.asl._batch import batch_job_definition_placeholder, batch_queue_placeholder
from stratoflow.backends.asl._checks import MAX_DEFINITION_BYTES, check_definition
from stratoflow.backends.asl._compiler import CompiledWorkflow, compile_workflow, spec_json_bytes
from stratoflow.backends.asl._dynamic import DAG_CONCURRENCY, interpreter_definition
from stratoflow.backends.asl._errors import (
    LAMBDA_TRANSIENT_ERRORS,
    SPOT_INTERRUPTION_STOP_CODE,
    STATES_ALL,
    STATES_TASK_FAILED,
    TASK_FAILED,
)
from stratoflow.backends.asl._graph import SyncPoint, decompose
from stratoflow.backends.asl._map import default_batch_size, items_key_format, tolerated_failure_percentage
from stratoflow.backends.asl._names import sanitize
from stratoflow.backends.asl._states import task_definition_placeholder

__all__ = [
    "DAG_CONCURRENCY",
    "LAMBDA_TRANSIENT_ERRORS",
    "MAX_DEFINITION_BYTES",
    "SPOT_INTERRUPTION_STOP_CODE",
    "STATES_ALL",
    "STATES_TASK_FAILED",
    "TASK_FAILED",
    "CompiledWorkflow",
    "SyncPoint",
    "batch_job_definition_placeholder",
    "batch_queue_placeholder",
    "check_definition",
    "compile_workflow",
    "decompose",
    "default_batch_size",
    "interpreter_definition",
    "items_key_format",
    "sanitize",
    "spec_json_bytes",
    "task_definition_placeholder",
    "tolerated_failure_percentage",
]
