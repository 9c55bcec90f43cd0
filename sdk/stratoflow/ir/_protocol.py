"""The wire contract between the compiled state machine, the runner, the stack and the emulator.

One module spells every name that crosses a process boundary: the event a state sends the
runner (and its :class:`Mode`), the result each mode returns, the S3 layout, the ``${...}``
placeholders, the ASL error names, the container's environment and the spec's bytes and
key. The compiler emits from here, the runner parses with it, ``infra/`` and the sandbox
fill placeholders from it, so none of them can drift from the others.

Pure data and functions: the IR may import only ``stratoflow.errors`` (import-linter layers).

Example:
    >>> from stratoflow.ir import protocol
    >>> protocol.NodeEvent.model_validate({"run": "r", "spec": "specs/w/0.json", "node": "a"}).mode
    <Mode.RUN: 'run'>
    >>> protocol.map_items_key("r", "a")
    'runs/r/maps/a/items.json'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from stratoflow.errors import TaskFailedError

# The bucket layout and the spec key are part of the contract: spelled protocol.<name>.
from stratoflow.ir._storage import (
    BLOBS_PREFIX,
    DYNAMIC_SPECS_PREFIX,
    RESERVED_PREFIXES,
    RUN_ID_MAX,
    RUNS_PREFIX,
    SPECS_PREFIX,
    blob_digest,
    blob_key,
    definition_comment,
    dynamic_run_key,
    dynamic_spec_key,
    inputs_key,
    map_inputs_key,
    map_items_key,
    map_meta_key,
    map_prefix,
    map_results_key,
    map_results_prefix,
    node_outputs_key,
    node_outputs_prefix,
    run_id_problem,
    run_prefix,
    spec_digest_ok,
    spec_json_bytes,
    spec_key,
    spec_key_in_comment,
    spec_key_prefix,
    trigger_prefix,
)

__all__ = [
    "ATTEMPT",
    "BLOBS_PREFIX",
    "CONTAINER_NAME",
    "DYNAMIC_SPECS_PREFIX",
    "ENV_ATTEMPT",
    "ENV_BUCKET",
    "ENV_CACHE_TABLE",
    "ENV_CACHE_TTL_DAYS",
    "ENV_DYNAMIC_COMPUTE",
    "ENV_ITEMS",
    "ENV_MODE",
    "ENV_NODE",
    "ENV_RUN",
    "ENV_SPEC",
    "ENV_TRIGGERS",
    "EXECUTION_NAME",
    "LAMBDA_TRANSIENT_ERRORS",
    "MAX_CONTAINER_BATCH",
    "PLACEHOLDER_PATTERN",
    "RESERVED_PREFIXES",
    "RESULTS",
    "RUNS_PREFIX",
    "RUN_ID_MAX",
    "SPECS_PREFIX",
    "SPOT_INTERRUPTION_STOP_CODE",
    "STATES_ALL",
    "STATES_TASK_FAILED",
    "SUBNETS",
    "TASK_DEFINITION_PREFIX",
    "TASK_FAILED",
    "TRACEBACK_MAX",
    "BranchDecideResult",
    "CacheCheckResult",
    "DagNextResult",
    "DagNode",
    "Dispatch",
    "DoneResult",
    "DynamicCompute",
    "DynamicPlanResult",
    "DynamicRunRecord",
    "FailureCause",
    "InterpreterInput",
    "MapItemsResult",
    "MapPrepareResult",
    "MapRun",
    "Mode",
    "NodeEvent",
    "Path",
    "Placeholder",
    "Result",
    "RunResult",
    "attempt_path",
    "blob_digest",
    "blob_key",
    "container_environment",
    "container_error_key",
    "container_event",
    "definition_comment",
    "dynamic_run_key",
    "dynamic_spec_key",
    "error_name",
    "event_parameters",
    "inputs_key",
    "interpreter_input",
    "is_placeholder",
    "is_task_definition",
    "map_inputs_key",
    "map_items_key",
    "map_meta_key",
    "map_prefix",
    "map_results_key",
    "map_results_prefix",
    "map_run_input",
    "node_outputs_key",
    "node_outputs_prefix",
    "placeholders_in",
    "ref",
    "result_selector",
    "run_id_problem",
    "run_prefix",
    "spec_digest_ok",
    "spec_json_bytes",
    "spec_key",
    "spec_key_in_comment",
    "spec_key_prefix",
    "task_definition",
    "task_definition_shape",
    "trigger_prefix",
]

# --- the event: what a state machine sends the runner ------------------------------------


class Mode(StrEnum):
    """What the runner does with one event (the payload's ``mode``)."""

    RUN = "run"
    CACHE_CHECK = "cache_check"
    MAP_PREPARE = "map_prepare"
    MAP_ITEMS = "map_items"
    MAP_GATHER = "map_gather"
    DYNAMIC_PLAN = "dynamic_plan"
    DYNAMIC_FINISH = "dynamic_finish"
    DAG_NEXT = "dag_next"
    DAG_RUN = "dag_run"
    BRANCH_DECIDE = "branch_decide"
    BRANCH_FINISH = "branch_finish"


class NodeEvent(BaseModel):
    """What a state machine sends the runner: which execution, which IR, which node, which mode."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run: str
    spec: str
    node: str
    mode: Mode = Mode.RUN
    items: list[int] | None = None  # map_items: the batch of item indices (ItemBatcher's Items)
    sub_run: str | None = None  # dynamic_finish: the sub-workflow's run id (from dynamic_plan)
    sub_spec: str | None = None  # dynamic_finish: the sub-workflow's IR key (from dynamic_plan)
    attempt: int = 1  # run: which attempt of the node this is (1-based, from the state's RetryCount)


@dataclass(frozen=True)
class Path:
    """A JSONPath the state fills in at run time (emitted as ``"<field>.$"``)."""

    expr: str


EXECUTION_NAME: Final = Path("$$.Execution.Name")
"""The execution's name: the run id of every top-level event."""


def attempt_path(first: int = 1) -> Path:
    """The attempt number of a state's current try, counted from ``first`` (the context object's
    ``RetryCount`` is 0 on a state's first try and grows with each ``Retry``).

    ``first`` is above 1 for a state that continues another's attempts (the on-demand attempt
    after Spot ones), so every backend numbers a node's attempts alike.
    """
    return Path(f"States.MathAdd($$.State.RetryCount, {first})")


ATTEMPT: Final = attempt_path()
"""The attempt of the running state: 1 on its first try, as the local executor counts."""


def event_parameters(*, mode: Mode | None = None, **fields: str | Path) -> dict[str, Any]:
    """A state's ``Payload`` for the runner: literal fields as written, :class:`Path` ones as ``.$``.

    ``mode`` is left out for :attr:`Mode.RUN` events sent without one (the event's default).

    Example:
        >>> event_parameters(run=EXECUTION_NAME, spec="specs/w/0.json", node="a", mode=Mode.CACHE_CHECK)
        {'run.$': '$$.Execution.Name', 'spec': 'specs/w/0.json', 'node': 'a', 'mode': 'cache_check'}
    """
    payload = _parameters(NodeEvent, fields)
    if mode is not None:
        payload["mode"] = mode.value
    return payload


class InterpreterInput(BaseModel):
    """What a dynamic node's state starts the interpreter with (the sub-run's execution input)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    spec: str  # the sub-workflow's IR key (``DynamicPlanResult.spec``)
    run: str  # the sub-run's id, also the interpreter execution's name
    parent: str  # the parent run
    node: str  # the dynamic node; with ``map``, the map node of ``run`` to run
    map: MapRun | None = None  # set: this execution runs one map node's items, not a graph


class MapRun(BaseModel):
    """An interpreter execution that is a dynamic graph's map runner: its one Distributed Map's
    batching (``map_prepare``'s ``batch_size``) and the node's ``DagNode.concurrency`` and ``tolerated``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    batch_size: int
    concurrency: int = 0
    tolerated: int = 0


def map_run_input(**fields: str | Path) -> dict[str, Any]:
    """The interpreter's ``Input.map`` parameters (:class:`Path` fields as ``.$``), checked against :class:`MapRun`."""
    return _parameters(MapRun, fields)


class DynamicRunRecord(BaseModel):
    """What the runner writes at ``dynamic_run_key(sub_run)`` when it plans a ``@dynamic`` node: the
    interpreter's events are accepted only for a sub-run and sub-spec recorded so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parent: str
    node: str
    spec: str


def interpreter_input(**fields: str | Path) -> dict[str, Any]:
    """The interpreter's ``Input`` parameters (:class:`Path` fields as ``.$``), checked against its model."""
    return _parameters(InterpreterInput, fields)


def _parameters(model: type[BaseModel], fields: Mapping[str, str | Path]) -> dict[str, Any]:
    unknown = set(fields) - set(model.model_fields)
    if unknown:
        raise ValueError(f"not a {model.__name__} field: {', '.join(sorted(unknown))}")
    return {
        f"{name}.$" if isinstance(v, Path) else name: v.expr if isinstance(v, Path) else v
        for name, v in fields.items()
    }


# --- results: what each mode returns (the state's ``$.Payload``) -------------------------


class Result(BaseModel):
    """What the runner returns for one event (``$.Payload`` of the state that sent it)."""

    model_config = ConfigDict(frozen=True)

    node: str

    def served_from_cache(self) -> bool:
        """Whether the node's cached outputs were used (what the runner's hit/miss metric counts)."""
        return bool(getattr(self, "hit", False))


class RunResult(Result):
    """``run`` and ``dag_run``: the node ran (or was served from the cache)."""

    hit: bool


class CacheCheckResult(Result):
    """``cache_check``: whether the node's cached outputs were copied to the run."""

    hit: bool


class MapPrepareResult(Result):
    """``map_prepare``: how many items the Distributed Map will read, and how to batch them.

    ``batch_size`` is the container-map batch (``ItemBatcher.MaxItemsPerBatchPath``) and
    ``batch_timeout`` the seconds one such batch may take (``TimeoutSecondsPath``; 0 when
    the task declares no timeout); a Lambda map's batcher is literal and ignores both.
    """

    count: int
    batch_size: int = 1
    batch_timeout: int = 0


class MapItemsResult(Result):
    """``map_items``: how many items of the batch ran and how many failed."""

    items: int
    failed: int


class DoneResult(Result):
    """``map_gather``, ``dynamic_finish`` and ``branch_finish``: nothing to report but completion."""


class DynamicPlanResult(Result):
    """``dynamic_plan``: a cache hit, or the sub-run to start and its IR key."""

    hit: bool
    run: str
    spec: str


class Dispatch(StrEnum):
    """How the interpreter runs one node of a dynamic graph (``DagNode.kind``, its item's Choice)."""

    LAMBDA = "lambda"  # ``dag_run`` in the runner (a task with its retries, or a whole map node)
    FARGATE = "fargate"
    FARGATE_SPOT = "fargate_spot"
    BATCH = "batch"
    BATCH_SPOT = "batch_spot"
    DYNAMIC = "dynamic"  # plan, start the interpreter itself, finish
    MAP = "map"  # map_prepare, the interpreter itself as a Distributed Map (``MapRun``), map_gather


class DagNode(BaseModel):
    """One ready node of a dynamic graph and what its container (if any) needs.

    Fargate: ``cpu`` (CPU units) and ``memory`` (MiB) as the strings RunTask's ``Overrides`` take,
    ``disk`` in GiB (at least Fargate's 21). Batch: ``queue`` (the job queue's ARN; the on-demand
    one in ``on_demand_queue``), ``job_name`` and ``resources`` (``ContainerOverrides.ResourceRequirements``).
    """

    model_config = ConfigDict(frozen=True)

    node: str
    kind: Dispatch
    cpu: str = ""
    memory: str = ""
    disk: int = 21
    queue: str = ""
    on_demand_queue: str = ""
    job_name: str = ""  # the node id cut to Batch's 128 characters (nested ids grow per level)
    resources: list[dict[str, str]] = []
    concurrency: int = 0  # map: the Distributed Map's MaxConcurrency (0: no limit)
    tolerated: int = 0  # map: its ToleratedFailurePercentage (crashed batches only)


class DagNextResult(Result):
    """``dag_next``: the next ready nodes of a dynamic graph, and whether it is finished."""

    nodes: list[DagNode]
    done: bool


class BranchDecideResult(Result):
    """``branch_decide``: the index of the conditional's case to run (a ``Choice`` reads it)."""

    case: int


RESULTS: Final[dict[Mode, type[Result]]] = {
    Mode.RUN: RunResult,
    Mode.CACHE_CHECK: CacheCheckResult,
    Mode.MAP_PREPARE: MapPrepareResult,
    Mode.MAP_ITEMS: MapItemsResult,
    Mode.MAP_GATHER: DoneResult,
    Mode.DYNAMIC_PLAN: DynamicPlanResult,
    Mode.DYNAMIC_FINISH: DoneResult,
    Mode.DAG_NEXT: DagNextResult,
    Mode.DAG_RUN: RunResult,
    Mode.BRANCH_DECIDE: BranchDecideResult,
    Mode.BRANCH_FINISH: DoneResult,
}
"""The result model of every mode."""


def result_selector(mode: Mode, *names: str) -> dict[str, str]:
    """An ASL ``ResultSelector`` keeping ``names`` of ``mode``'s result (checked against its model).

    Example:
        >>> result_selector(Mode.CACHE_CHECK, "hit")
        {'hit.$': '$.Payload.hit'}
    """
    fields = RESULTS[mode].model_fields
    unknown = [name for name in names if name not in fields]
    if unknown:
        raise ValueError(f"{mode.value} results have no field {', '.join(unknown)}")
    return {f"{name}.$": f"$.Payload.{name}" for name in names}


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


def is_placeholder(name: str) -> bool:
    """Whether ``name`` is one the compiler may emit (and so one infra and the sandbox must fill)."""
    return (
        name in set(Placeholder)
        or is_task_definition(name)
        or is_batch_queue(name)
        or is_batch_job_definition(name)
    )


def ref(name: str) -> str:
    """A placeholder as written in the definition: ``${name}``."""
    return f"${{{name}}}"


PLACEHOLDER_PATTERN: Final = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
"""A ``${Name}`` in definition text (CDK's ``definitionSubstitutions`` syntax)."""


def placeholders_in(text: str) -> set[str]:
    """The placeholder names written in ``text``."""
    return set(PLACEHOLDER_PATTERN.findall(text))


# --- errors: the ASL ``Error`` names the runner raises and the compiler matches ----------

TASK_FAILED: Final = "Sdk.TaskFailed"
"""Error name for a failed task whose exception class name could not be used as the Error."""

STATES_ALL: Final = "States.ALL"
"""Matches every error except ``States.DataLimitExceeded`` and ``States.Runtime``; alone and last."""

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


class FailureCause(BaseModel):
    """The JSON ``Cause`` of a failed task (the message of the error the runner raises)."""

    model_config = ConfigDict(extra="ignore")

    node: str
    error: str | None = None
    message: str | None = None
    attempt: int | None = None
    traceback: str | None = None  # the user's traceback (its tail: a state's Cause holds 32 KiB)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(exclude_none=True), sort_keys=True)

    @classmethod
    def of(cls, exc: TaskFailedError) -> FailureCause:
        """The cause of a failed task: its exception, message, attempt and traceback's tail."""
        trace = exc.traceback_text
        return cls(
            node=exc.node,
            error=exc.error_type,
            message=str(exc),
            attempt=exc.attempt,
            traceback=None if trace is None else trace[-TRACEBACK_MAX:],
        )

    @classmethod
    def parse(cls, value: object) -> FailureCause | None:
        """The cause in already-parsed JSON, or ``None`` unless it is an object naming a node."""
        if not isinstance(value, dict) or "node" not in value:
            return None
        return cls.model_validate({**value, "node": str(value["node"])})


TRACEBACK_MAX: Final = 8000
"""Most characters of a user traceback a :class:`FailureCause` keeps (its last ones)."""


def container_error_key(run_id: str, node: str) -> str:
    """Where a container records why its node failed (a :class:`FailureCause` as JSON).

    ECS and Batch report a failed container by its exit code only, so the client reads the
    user's exception from here when it reports the failed execution.
    """
    return f"{run_prefix(run_id)}errors/{node}.json"


def error_name(error_type: str) -> str:
    """The ASL ``Error`` for a task failure: the exception's name, or :data:`TASK_FAILED`."""
    return error_type if error_type.isidentifier() else TASK_FAILED


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

ENV_BUCKET: Final = "STRATOFLOW_BUCKET"
ENV_CACHE_TABLE: Final = "STRATOFLOW_CACHE_TABLE"
ENV_CACHE_TTL_DAYS: Final = "STRATOFLOW_CACHE_TTL_DAYS"
ENV_TRIGGERS: Final = "STRATOFLOW_TRIGGERS"
ENV_DYNAMIC_COMPUTE: Final = "STRATOFLOW_DYNAMIC_COMPUTE"
"""JSON :class:`DynamicCompute`: the container compute the stack deployed for dynamic graphs."""
"""Settings of the runner and the trigger starter (set by the stack, or the sandbox)."""


class DynamicCompute(BaseModel):
    """What container compute dynamic graphs may use (:data:`ENV_DYNAMIC_COMPUTE` on the runner).

    The stack decides at synth: see ``infra.stacks.dynamic_compute``. ``batch_queues`` maps a
    :func:`batch_queue` placeholder name to the queue's ARN.
    """

    model_config = ConfigDict(frozen=True)

    fargate: bool = False
    batch_queues: dict[str, str] = {}


def container_environment(
    *,
    run: str | Path,
    spec: str | Path,
    node: str | Path,
    mode: Mode | None = None,
    items: Path | None = None,
    attempt: Path | None = None,
) -> list[dict[str, str]]:
    """The ``Environment`` override carrying one event to a container (:class:`Path` values as ``.$``).

    ``items`` must evaluate to a JSON *string* (``States.JsonToString($.Items)``): container
    environment values are strings; so is ``attempt``, sent as ``States.JsonToString`` of its path.
    """
    fields: list[tuple[str, str | Path]] = [(ENV_RUN, run), (ENV_SPEC, spec), (ENV_NODE, node)]
    if mode is not None:
        fields.append((ENV_MODE, mode.value))
    if items is not None:
        fields.append((ENV_ITEMS, items))
    if attempt is not None:
        fields.append((ENV_ATTEMPT, Path(f"States.JsonToString({attempt.expr})")))
    entries: list[dict[str, str]] = []
    for name, value in fields:
        if isinstance(value, Path):
            entries.append({"Name": name, "Value.$": value.expr})
        else:
            entries.append({"Name": name, "Value": value})
    return entries


def container_event(environ: Mapping[str, str]) -> NodeEvent:
    """The event a container was started with (raises ``KeyError`` naming a missing variable).

    Raises ``ValueError`` (pydantic's) when ``ENV_MODE`` or ``ENV_ITEMS`` holds something else
    than a mode and a JSON list of indices.
    """
    mode = environ.get(ENV_MODE) or Mode.RUN
    raw_items = environ.get(ENV_ITEMS)
    items = None if raw_items is None else json.loads(raw_items)
    attempt = environ.get(ENV_ATTEMPT) or 1
    return NodeEvent.model_validate(
        {
            "run": environ[ENV_RUN],
            "spec": environ[ENV_SPEC],
            "node": environ[ENV_NODE],
            "mode": mode,
            "items": items,
            "attempt": attempt,
        }
    )
