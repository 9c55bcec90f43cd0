"""Names the compiled ASL shares with the deployment and the runner: the ``${...}``
placeholders the stack (or the sandbox) substitutes, and the ``Error`` names and ``Cause``
the runner raises and the compiler matches.

It also spells the bucket's prefixes and the container's environment: every literal name of
the wire contract is here, and ``ir._storage`` (keys) and ``ir._protocol`` (models) build on
them. Spelled ``protocol.<name>`` (re-exported by ``ir._protocol``).
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Final

__all__ = [
    "ACTOR_BATCH_SIZE",
    "ACTOR_HEARTBEAT_SECONDS",
    "ACTOR_LOCK_PREFIX",
    "ACTOR_LOST",
    "ACTOR_MAX_LOST",
    "ACTOR_QUEUE_PREFIX",
    "ACTOR_TASK_DEFINITION_PREFIX",
    "ACTOR_WORKER_GROUP_PREFIX",
    "BATCH_JOB_DEFINITION_PREFIX",
    "BATCH_QUEUE_PREFIX",
    "BLOBS_PREFIX",
    "CONTAINER_NAME",
    "DYNAMIC_SPECS_PREFIX",
    "ENV_ACTORS",
    "ENV_ACTOR_HEARTBEAT_SECONDS",
    "ENV_ACTOR_NAME",
    "ENV_ACTOR_QUEUE",
    "ENV_ACTOR_TTL_SECONDS",
    "ENV_ATTEMPT",
    "ENV_BUCKET",
    "ENV_CACHE_TABLE",
    "ENV_CACHE_TTL_DAYS",
    "ENV_DYNAMIC_COMPUTE",
    "ENV_IMAGE",
    "ENV_ITEMS",
    "ENV_LAUNCH_PLANS",
    "ENV_MODE",
    "ENV_NODE",
    "ENV_RUN",
    "ENV_SPEC",
    "ENV_TRIGGERS",
    "IMAGE_FUNCTION_PREFIX",
    "IMAGE_SHAPE_INFIX",
    "LAMBDA_TRANSIENT_ERRORS",
    "MAX_CONTAINER_BATCH",
    "PLACEHOLDER_PATTERN",
    "RESERVED_PREFIXES",
    "RUNS_PREFIX",
    "SCHEDULED_TIME_ATTRIBUTE",
    "SCHEDULE_GROUP_PREFIX",
    "SECRETS_MANAGER_PREFIX",
    "SECRET_ENV_PREFIX",
    "SPECS_PREFIX",
    "SPOT_INTERRUPTION_STOP_CODE",
    "SPOT_RECLAIM_STATUS_REASON",
    "STATES_ALL",
    "STATES_HEARTBEAT_TIMEOUT",
    "STATES_TASK_FAILED",
    "STRATOFLOW_SECRET_ENV_PREFIX",
    "SUBNETS",
    "TASK_DEFINITION_PREFIX",
    "TASK_FAILED",
    "TRACEBACK_MAX",
    "Placeholder",
    "actor_queue",
    "actor_slug",
    "actor_task_definition",
    "actor_worker_group",
    "batch_job_definition",
    "batch_queue",
    "dynamic_task_definition",
    "error_name",
    "image_function",
    "image_function_tag",
    "image_shape",
    "is_actor_queue",
    "is_actor_task_definition",
    "is_batch_job_definition",
    "is_batch_queue",
    "is_image_function",
    "is_placeholder",
    "is_task_definition",
    "placeholders_in",
    "ref",
    "secret_env_var",
    "secret_name",
    "split_image_shape",
    "stage_problem",
    "stage_stack_name",
    "task_definition",
    "task_definition_shape",
]


# --- placeholders: what the deployment (or the sandbox) substitutes into the ASL ---------


class Placeholder(StrEnum):
    """Fixed ``${...}`` names of compiled ASL (``TaskDef_<shape>`` names are :func:`task_definition`)."""

    TASK_RUNNER_FUNCTION_ARN = "TaskRunnerFunctionArn"
    CLUSTER_ARN = "ClusterArn"
    # One placeholder per subnet (not one for a list): CDK's definition_substitutions
    # replaces strings with strings, and a JSON list cannot be substituted into one.
    PRIVATE_SUBNET_1 = "PrivateSubnet1"
    PRIVATE_SUBNET_2 = "PrivateSubnet2"
    TASK_SECURITY_GROUP = "TaskSecurityGroup"
    DATA_BUCKET = "DataBucket"
    DYNAMIC_INTERPRETER_ARN = "DynamicInterpreterArn"
    DYNAMIC_TASK_DEFINITION = "TaskDef_dynamic"
    """The generic Fargate task definition of dynamic graphs (cpu/memory overridden per node)."""
    DYNAMIC_JOB_DEFINITION = "BatchJobDef_dynamic"
    """The generic Batch job definition of dynamic graphs (resources overridden per node)."""


SUBNETS: Final = (Placeholder.PRIVATE_SUBNET_1, Placeholder.PRIVATE_SUBNET_2)
"""The private subnets a Fargate task runs in, in order."""

TASK_DEFINITION_PREFIX: Final = "TaskDef_"


def task_definition(shape: str) -> str:
    """The placeholder name of the Fargate task definition of one shape (``cpu4_mem16384``)."""
    return f"{TASK_DEFINITION_PREFIX}{shape}"


def is_task_definition(name: str) -> bool:
    """Whether a placeholder name is a Fargate task definition's."""
    return name.startswith(TASK_DEFINITION_PREFIX) and len(name) > len(TASK_DEFINITION_PREFIX)


def task_definition_shape(name: str) -> str:
    """The shape a task-definition placeholder names (``TaskDef_cpu4_mem16384`` -> ``cpu4_mem16384``)."""
    if not is_task_definition(name):
        raise ValueError(f"not a task definition placeholder: {name!r}")
    return name.removeprefix(TASK_DEFINITION_PREFIX)


BATCH_QUEUE_PREFIX: Final = "BatchQueue_"
BATCH_JOB_DEFINITION_PREFIX: Final = "BatchJobDef_"


def batch_queue(pool: str, *, spot: bool) -> str:
    """The placeholder name of one Batch pool's on-demand or Spot job queue."""
    return f"{BATCH_QUEUE_PREFIX}{pool}_{'spot' if spot else 'ondemand'}"


def batch_job_definition(shape: str) -> str:
    """The placeholder name of the Batch job definition of one shape (``vcpu4_mem16384_gpu1``)."""
    return f"{BATCH_JOB_DEFINITION_PREFIX}{shape}"


def is_batch_queue(name: str) -> bool:
    return name.startswith(BATCH_QUEUE_PREFIX) and len(name) > len(BATCH_QUEUE_PREFIX)


def is_batch_job_definition(name: str) -> bool:
    return name.startswith(BATCH_JOB_DEFINITION_PREFIX) and len(name) > len(BATCH_JOB_DEFINITION_PREFIX)


IMAGE_FUNCTION_PREFIX: Final = "ImageRunnerFunctionArn_"
IMAGE_SHAPE_INFIX: Final = "_img"
# Patterns are kept as text: ``re`` compiles each on first use (and caches it), not at import.
_IMAGE_TAG = r"^[0-9a-f]{8,64}$"


def _check_tag(tag: str) -> str:
    if not re.match(_IMAGE_TAG, tag):
        raise ValueError(f"not an image tag (lowercase hex digest): {tag!r}")
    return tag


def image_function(tag: str) -> str:
    """The placeholder name of the container-image runner function of image ``tag`` (one per image)."""
    return f"{IMAGE_FUNCTION_PREFIX}{_check_tag(tag)}"


def is_image_function(name: str) -> bool:
    """Whether a placeholder name is an image runner function's."""
    return name.startswith(IMAGE_FUNCTION_PREFIX) and bool(
        re.match(_IMAGE_TAG, name.removeprefix(IMAGE_FUNCTION_PREFIX))
    )


def image_function_tag(name: str) -> str:
    """The image tag an image-function placeholder names."""
    if not is_image_function(name):
        raise ValueError(f"not an image function placeholder: {name!r}")
    return name.removeprefix(IMAGE_FUNCTION_PREFIX)


def image_shape(shape: str, tag: str | None) -> str:
    """A container shape for tasks of image ``tag`` (``cpu4_mem16384_img<tag>``); ``None``: the shared image.

    Task and job definitions exist per (image, shape), so the image is part of the shape their
    placeholders (:func:`task_definition`, :func:`batch_job_definition`) name.
    """
    return shape if tag is None else f"{shape}{IMAGE_SHAPE_INFIX}{_check_tag(tag)}"


def dynamic_task_definition(tag: str) -> str:
    """The placeholder of image ``tag``'s generic Fargate task definition of dynamic graphs
    (``TaskDef_dynamic_img<tag>``; cpu and memory overridden per node, as the shared image's)."""
    return task_definition(
        image_shape(Placeholder.DYNAMIC_TASK_DEFINITION.removeprefix(TASK_DEFINITION_PREFIX), tag)
    )


def split_image_shape(shape: str) -> tuple[str, str | None]:
    """``(shape, image tag or None)`` of a shape :func:`image_shape` built."""
    base, infix, tag = shape.rpartition(IMAGE_SHAPE_INFIX)
    if infix and base and re.match(_IMAGE_TAG, tag):
        return base, tag
    return shape, None


ACTOR_QUEUE_PREFIX: Final = "ActorQueue_"
"""``ActorQueue_<slug>``: the URL of one actor environment's SQS queue (its tasks' messages)."""
ACTOR_TASK_DEFINITION_PREFIX: Final = "ActorWorker_"
"""``ActorWorker_<slug>``: the ARN of one actor environment's worker task definition (infra only:
the runner reads it from :data:`ENV_ACTORS`; the compiled ASL never names it)."""


def actor_slug(environment: str) -> str:
    """An environment's name as placeholders spell it (``-`` becomes ``_``; the stack rejects clashes)."""
    return environment.replace("-", "_")


def actor_queue(environment: str) -> str:
    """The placeholder name of an actor environment's queue URL.

    Example:
        >>> actor_queue("gpu-scorers")
        'ActorQueue_gpu_scorers'
    """
    return f"{ACTOR_QUEUE_PREFIX}{actor_slug(environment)}"


def is_actor_queue(name: str) -> bool:
    return name.startswith(ACTOR_QUEUE_PREFIX) and len(name) > len(ACTOR_QUEUE_PREFIX)


def actor_task_definition(environment: str) -> str:
    """The (infra-side) name of an actor environment's worker task definition."""
    return f"{ACTOR_TASK_DEFINITION_PREFIX}{actor_slug(environment)}"


def is_actor_task_definition(name: str) -> bool:
    return name.startswith(ACTOR_TASK_DEFINITION_PREFIX) and len(name) > len(ACTOR_TASK_DEFINITION_PREFIX)


ACTOR_WORKER_GROUP_PREFIX: Final = "sf-actor-"
"""Prefix of the ECS ``startedBy`` of an environment's workers (:func:`actor_worker_group`)."""


def actor_worker_group(environment: str, workflow: str = "") -> str:
    """The ECS ``startedBy`` of an environment's workers: ``ListTasks`` filters on it (not on
    ``group``), so the ensure step counts an environment's running workers by it. At most 36
    characters (ECS's limit), so a long name keeps a hash of itself.

    ``workflow``: each deployed workflow has its own pool of an environment (its workers hold that
    workflow's role and serve its queue), so its workers are counted apart from another's.

    Example:
        >>> actor_worker_group("scorers")
        'sf-actor-scorers'
        >>> actor_worker_group("scorers", "nightly")
        'sf-actor-nightly.scorers'
    """
    name = f"{workflow}.{environment}" if workflow else environment
    full = f"{ACTOR_WORKER_GROUP_PREFIX}{name}"
    if len(full) <= 36:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{full[:27]}-{digest}"


def is_placeholder(name: str) -> bool:
    """Whether ``name`` is one the compiler may emit (and so one infra and the sandbox must fill)."""
    return (
        name in set(Placeholder)
        or is_task_definition(name)
        or is_batch_queue(name)
        or is_batch_job_definition(name)
        or is_image_function(name)
        or is_actor_queue(name)
    )


def ref(name: str) -> str:
    """A placeholder as written in the definition: ``${name}``."""
    return f"${{{name}}}"


PLACEHOLDER_PATTERN: Final = r"\$\{([A-Za-z0-9_]+)\}"
"""A ``${Name}`` in definition text (CDK's ``definitionSubstitutions`` syntax)."""


def placeholders_in(text: str) -> set[str]:
    """The placeholder names written in ``text``."""
    return set(re.findall(PLACEHOLDER_PATTERN, text))


# --- errors: the ASL ``Error`` names the runner raises and the compiler matches ----------

TASK_FAILED: Final = "Sdk.TaskFailed"
"""Error name for a failed task whose exception class name could not be used as the Error."""

STATES_ALL: Final = "States.ALL"
"""Matches every error except ``States.DataLimitExceeded`` and ``States.Runtime``; alone and last."""

STATES_HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
"""What a ``.waitForTaskToken`` state raises when no heartbeat came for ``HeartbeatSeconds``:
for an actor task, its worker was lost (Spot reclaim, crash), so the task goes to another worker."""

ACTOR_LOST: Final = "Sdk.ActorWorkerLost"
"""Error of an actor task whose workers were lost :data:`ACTOR_MAX_LOST` times in a row."""

ACTOR_MAX_LOST: Final = 5
"""How many lost workers one actor task survives (each loss re-runs it on another worker)."""

ACTOR_HEARTBEAT_SECONDS: Final = 60
"""An actor task's ``HeartbeatSeconds``: a worker heartbeats every third of it while it runs."""

ACTOR_BATCH_SIZE: Final = 10
"""Items per queue message of an actor ``map_task`` without ``batch_size``: small, since workers
are warm (no start-up to amortise) and small batches spread the items over all replicas."""

ACTOR_LOCK_PREFIX: Final = "actor-ensure#"
"""Cache-table key prefix of the short lock that serialises the ensure steps of one environment
(concurrent branches would otherwise all see too few workers and all start some)."""

STATES_TASK_FAILED: Final = "States.TaskFailed"
"""What ``ecs:runTask.sync`` raises for any stopped-with-failure task, Spot interruptions included."""

LAMBDA_TRANSIENT_ERRORS: Final = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
)
"""Lambda service-side errors that say nothing about the task itself, so they are always retried."""

SPOT_INTERRUPTION_STOP_CODE: Final = "SpotInterruption"
"""ECS ``stopCode`` of a Fargate Spot task reclaimed by AWS (in the failed state's JSON ``Cause``)."""

SPOT_RECLAIM_STATUS_REASON: Final = "Host EC2*"
"""``StringMatches`` pattern of the job ``StatusReason`` AWS Batch reports for a reclaimed host."""


TRACEBACK_MAX: Final = 8000
"""Most characters of a user traceback a :class:`FailureCause` keeps (its last ones)."""


def error_name(error_type: str) -> str:
    """The ASL ``Error`` for a task failure: the exception's name, or :data:`TASK_FAILED`."""
    return error_type if error_type.isidentifier() else TASK_FAILED


# --- storage: the data bucket's prefixes (keys are built in ``ir._storage``) -------------

SPECS_PREFIX: Final = "specs/"
"""Workflow IRs, written by the deployment (content addressed)."""
DYNAMIC_SPECS_PREFIX: Final = "dynamic-specs/"
"""``@dynamic`` sub-workflow IRs, written by the runner at run time (content addressed)."""
RUNS_PREFIX: Final = "runs/"
"""Per-run inputs, node outputs, map items and trigger copies."""
BLOBS_PREFIX: Final = "blobs/"
"""Content-addressed values and files."""

RESERVED_PREFIXES: Final = (RUNS_PREFIX, BLOBS_PREFIX, SPECS_PREFIX, DYNAMIC_SPECS_PREFIX)
"""Every prefix stratoflow itself writes: an S3 trigger on one would start runs in a loop."""


# --- the container: its name and the environment it runs with ----------------------------

CONTAINER_NAME: Final = "task"
"""The container the compiled ``ContainerOverrides`` name (and the task definitions define)."""

ENV_RUN: Final = "STRATOFLOW_RUN"
ENV_SPEC: Final = "STRATOFLOW_SPEC"
ENV_NODE: Final = "STRATOFLOW_NODE"
ENV_MODE: Final = "STRATOFLOW_MODE"
ENV_ITEMS: Final = "STRATOFLOW_ITEMS"
ENV_ATTEMPT: Final = "STRATOFLOW_ATTEMPT"
"""The event of a container task, passed as container environment overrides (mode and items
only for a container map's batch: ``map_items`` and the JSON list of the batch's indices;
the attempt only for a node's own run, as a decimal string)."""

MAX_CONTAINER_BATCH: Final = 500
"""Most items one container batch takes. The indices travel as JSON in ``ENV_ITEMS``, and ECS
caps a RunTask's ``overrides`` at 8 KiB: 500 indices below 10,000,000 are under 4.5 KB."""

ENV_ACTOR_NAME: Final = "STRATOFLOW_ACTOR"
ENV_ACTOR_QUEUE: Final = "STRATOFLOW_ACTOR_QUEUE"
ENV_ACTOR_TTL_SECONDS: Final = "STRATOFLOW_ACTOR_TTL_SECONDS"
ENV_ACTOR_HEARTBEAT_SECONDS: Final = "STRATOFLOW_ACTOR_HEARTBEAT_SECONDS"
"""An actor worker's settings (its task definition's environment): its environment's name, the
queue URL it polls, how long it stays idle before it exits, and how often it heartbeats."""
ENV_ACTORS: Final = "STRATOFLOW_ACTORS"
"""JSON ``protocol.ActorPools`` on the runner: how the ensure step starts each environment's workers."""

ENV_BUCKET: Final = "STRATOFLOW_BUCKET"
ENV_CACHE_TABLE: Final = "STRATOFLOW_CACHE_TABLE"
ENV_CACHE_TTL_DAYS: Final = "STRATOFLOW_CACHE_TTL_DAYS"
ENV_TRIGGERS: Final = "STRATOFLOW_TRIGGERS"
ENV_LAUNCH_PLANS: Final = "STRATOFLOW_LAUNCH_PLANS"
"""JSON list of ``protocol.ScheduledPlan`` on the schedule starter: what each scheduled plan starts."""
ENV_IMAGE: Final = "STRATOFLOW_IMAGE"
"""Set by a built ``ImageSpec`` image to its tag (``ImageSpec.is_container()`` reads it)."""
ENV_DYNAMIC_COMPUTE: Final = "STRATOFLOW_DYNAMIC_COMPUTE"
"""JSON ``protocol.DynamicCompute``: the container compute the stack deployed for dynamic graphs."""
"""Settings of the runner and the trigger starter (set by the stack, or the sandbox)."""

SCHEDULED_TIME_ATTRIBUTE: Final = "<aws.scheduler.scheduled-time>"
"""EventBridge Scheduler's context attribute for the time a delivery was scheduled for (ISO 8601,
UTC). Every retried delivery of one occurrence carries the same value, so the schedule
starter names the execution from it (``protocol.scheduled_run_id``)."""
SCHEDULE_GROUP_PREFIX: Final = "stratoflow-"
"""Schedule groups are named ``stratoflow-<stack>``: a stack's schedules, apart from any other."""
SECRET_ENV_PREFIX: Final = "_FSEC_"  # noqa: S105 - a name prefix, not a secret
"""flytekit's name for a secret in a task's environment: ``_FSEC_<GROUP>_<KEY>`` (upper case), read by
``current_context().secrets.get(group, key)``."""
STRATOFLOW_SECRET_ENV_PREFIX: Final = "STRATOFLOW_SECRET_"  # noqa: S105 - a name prefix, not a secret
"""stratoflow's name for a secret in a task's environment (a local run's, or the one ECS fills from a
container task definition's ``secrets``): ``STRATOFLOW_SECRET_<GROUP>_<KEY>``."""
SECRETS_MANAGER_PREFIX: Final = "stratoflow/"
"""Secrets Manager names: a task's ``Secret(group="db", key="password")`` is ``stratoflow/db/password``."""


def secret_name(group: str, key: str | None, group_version: str | None = None) -> str:
    """The Secrets Manager name of a secret (``stratoflow/db/password``)."""
    return SECRETS_MANAGER_PREFIX + "/".join(p for p in (group, group_version, key) if p)


def secret_env_var(group: str, key: str | None, group_version: str | None = None) -> str:
    """stratoflow's environment variable of a secret (``STRATOFLOW_SECRET_DB_PASSWORD``)."""
    parts = "_".join(p for p in (group, group_version, key) if p)
    return f"{STRATOFLOW_SECRET_ENV_PREFIX}{parts}".upper().replace("-", "_").replace(".", "_")


_STAGE = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"


def stage_problem(stage: str) -> str | None:
    """What is wrong with a stage name (``dev``, ``prod``: it ends every physical name), or ``None``."""
    if re.match(_STAGE, stage):
        return None
    return f"stage {stage!r:.60} must be 1-32 letters, digits and '-', starting with a letter or digit"


def stage_stack_name(stack_name: str, stage: str | None) -> str:
    """The stack of one stage (``Stratoflow-prod``): every resource name derives from it, so stages share
    none. ``None``: the unstaged stack (``stack_name`` itself)."""
    return stack_name if not stage else f"{stack_name}-{stage}"
