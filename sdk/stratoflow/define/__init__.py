"""The definition layer: ``@task``, ``@dynamic``, ``@workflow``, ``map_task``, ``Resources``; no AWS imports.

What a plain task, workflow, map or ``@dynamic`` does not need (actors, conditionals, decks, gates, images,
launch plans, schedules, secrets, triggers, the imperative builder, the loader) loads on first use of its
name: most processes never use them, and each costs start-up time (issue 14).
"""

from typing import TYPE_CHECKING

from stratoflow._lazy import module_getattr
from stratoflow.define._dynamic import dynamic, trace_dynamic
from stratoflow.define._execution import (
    Checkpoint,
    RunStorage,
    SecretsManager,
    current_context,
    execution_scope,
    running_attempt,
)
from stratoflow.define._failure import FlyteError, WorkflowFailurePolicy
from stratoflow.define._interface import Interface, kwtypes
from stratoflow.define._map import MapTaskDef, map_task
from stratoflow.define._nodes import NodeHandle, VoidPromise, create_node
from stratoflow.define._options import TaskKwargs, TaskOptions
from stratoflow.define._resources import Resources
from stratoflow.define._task import TaskDef, resolve_task, task
from stratoflow.define._trace import (
    Call,
    GateCall,
    MapCall,
    MapOptions,
    Promise,
    TaskCall,
    WorkflowCall,
    constant_to_json,
)
from stratoflow.define._workflow import WorkflowDef, set_local_runner, workflow

if TYPE_CHECKING:
    from stratoflow.define._actors import ActorEnvironment, actor_cache
    from stratoflow.define._condition import BranchCall, ConditionalSection, conditional
    from stratoflow.define._context_manager import FlyteContext, FlyteContextManager
    from stratoflow.define._deck import Deck, deck_location
    from stratoflow.define._echo import Echo
    from stratoflow.define._gates import approve, sleep, wait_for_input
    from stratoflow.define._hash_method import HashMethod
    from stratoflow.define._images import ImageSpec
    from stratoflow.define._imperative import ImperativeWorkflow
    from stratoflow.define._launch_plan import LaunchPlan
    from stratoflow.define._load import (
        load_launch_plan,
        load_target,
        load_workflow,
        load_workflows,
        module_name_for,
    )
    from stratoflow.define._parameters import ExecutionParameters, WorkflowExecutionIdentifier
    from stratoflow.define._schedules import (
        CronSchedule,
        Email,
        FixedRate,
        Notification,
        PagerDuty,
        Slack,
        Webhook,
        WorkflowExecutionPhase,
    )
    from stratoflow.define._secrets import (
        EnvironmentSecretStore,
        Secret,
        SecretStore,
        secret_env_var,
        secret_name,
    )
    from stratoflow.define._triggers import RESERVED_PREFIXES, S3Trigger

# The names loaded on first use, and the module each comes from.
_LAZY = {
    "ActorEnvironment": "_actors",
    "BranchCall": "_condition",
    "ConditionalSection": "_condition",
    "CronSchedule": "_schedules",
    "Deck": "_deck",
    "Echo": "_echo",
    "Email": "_schedules",
    "EnvironmentSecretStore": "_secrets",
    "ExecutionParameters": "_parameters",
    "FixedRate": "_schedules",
    "FlyteContext": "_context_manager",
    "FlyteContextManager": "_context_manager",
    "HashMethod": "_hash_method",
    "ImageSpec": "_images",
    "ImperativeWorkflow": "_imperative",
    "LaunchPlan": "_launch_plan",
    "Notification": "_schedules",
    "PagerDuty": "_schedules",
    "RESERVED_PREFIXES": "_triggers",
    "S3Trigger": "_triggers",
    "Secret": "_secrets",
    "SecretStore": "_secrets",
    "Slack": "_schedules",
    "Webhook": "_schedules",
    "WorkflowExecutionIdentifier": "_parameters",
    "WorkflowExecutionPhase": "_schedules",
    "actor_cache": "_actors",
    "approve": "_gates",
    "conditional": "_condition",
    "deck_location": "_deck",
    "load_launch_plan": "_load",
    "load_target": "_load",
    "load_workflow": "_load",
    "load_workflows": "_load",
    "module_name_for": "_load",
    "secret_env_var": "_secrets",
    "secret_name": "_secrets",
    "sleep": "_gates",
    "wait_for_input": "_gates",
}

__all__ = [
    "RESERVED_PREFIXES",
    "ActorEnvironment",
    "BranchCall",
    "Call",
    "Checkpoint",
    "ConditionalSection",
    "CronSchedule",
    "Deck",
    "Echo",
    "Email",
    "EnvironmentSecretStore",
    "ExecutionParameters",
    "FixedRate",
    "FlyteContext",
    "FlyteContextManager",
    "FlyteError",
    "GateCall",
    "HashMethod",
    "ImageSpec",
    "ImperativeWorkflow",
    "Interface",
    "LaunchPlan",
    "MapCall",
    "MapOptions",
    "MapTaskDef",
    "NodeHandle",
    "Notification",
    "PagerDuty",
    "Promise",
    "Resources",
    "RunStorage",
    "S3Trigger",
    "Secret",
    "SecretStore",
    "SecretsManager",
    "Slack",
    "TaskCall",
    "TaskDef",
    "TaskKwargs",
    "TaskOptions",
    "VoidPromise",
    "Webhook",
    "WorkflowCall",
    "WorkflowDef",
    "WorkflowExecutionIdentifier",
    "WorkflowExecutionPhase",
    "WorkflowFailurePolicy",
    "actor_cache",
    "approve",
    "conditional",
    "constant_to_json",
    "create_node",
    "current_context",
    "deck_location",
    "dynamic",
    "execution_scope",
    "kwtypes",
    "load_launch_plan",
    "load_target",
    "load_workflow",
    "load_workflows",
    "map_task",
    "module_name_for",
    "resolve_task",
    "running_attempt",
    "secret_env_var",
    "secret_name",
    "set_local_runner",
    "sleep",
    "task",
    "trace_dynamic",
    "wait_for_input",
    "workflow",
]


__getattr__ = module_getattr(__name__, _LAZY, globals())
