"""stratoflow's CDK constructs, one concern each; usable inside any CDK app.

Example:
    >>> from infra.constructs import CacheTable, PayloadBucket
    >>> payload = PayloadBucket(stack, "Payload")  # doctest: +SKIP
"""

from infra.constructs._bundle import Bundle, BundlingError, DependencyBundling
from infra.constructs._grants import runner_data_statements
from infra.constructs._props import PropsError
from infra.constructs.batch_compute import BatchCompute, BatchPool, BatchShape
from infra.constructs.cache_table import CacheTable
from infra.constructs.dynamic_interpreter import DynamicInterpreter
from infra.constructs.fargate_compute import FargateCompute, FargateShape
from infra.constructs.payload_bucket import PayloadBucket
from infra.constructs.task_function import TaskFunction
from infra.constructs.trigger_starter import TriggeredWorkflow, TriggerStarter
from infra.constructs.workflow_state_machine import WorkflowStateMachine, pascal_case

__all__ = [
    "BatchCompute",
    "BatchPool",
    "BatchShape",
    "Bundle",
    "BundlingError",
    "CacheTable",
    "DependencyBundling",
    "DynamicInterpreter",
    "FargateCompute",
    "FargateShape",
    "PayloadBucket",
    "PropsError",
    "TaskFunction",
    "TriggerStarter",
    "TriggeredWorkflow",
    "WorkflowStateMachine",
    "pascal_case",
    "runner_data_statements",
]
