"""The event a state sends the runner (:class:`Mode`, :class:`NodeEvent`), the interpreter's and
map runs' inputs, result selectors and the container's environment: the runtime half of the wire
contract, spelled ``protocol.<name>`` (re-exported by ``_protocol``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from stratoflow.ir._actor_wire import (
    TASK_TOKEN,
    ActorEnsureResult,
)
from stratoflow.ir._names import (
    ENV_ATTEMPT,
    ENV_ITEMS,
    ENV_MODE,
    ENV_NODE,
    ENV_RUN,
    ENV_SPEC,
)

# The bucket layout and the spec key are part of the contract: spelled protocol.<name>.
# Placeholders and error names: spelled protocol.<name> too.
# The result models: spelled protocol.<name> too.
from stratoflow.ir._results import (
    BranchDecideResult,
    CacheCheckResult,
    DagNextResult,
    DoneResult,
    DynamicPlanResult,
    MapItemsResult,
    MapPrepareResult,
    Result,
    RunResult,
)

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
    ACTOR_ENSURE = "actor_ensure"
    GATE_WAIT = "gate_wait"  # a gate starts waiting: its record; a signal gate keeps the task token
    GATE_FINISH = "gate_finish"  # the gate's output from its signal
    FAILURE_RECORD = "failure_record"  # the run's error as the on_failure task's `err` input


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
    token: str | None = None  # gate_wait: the waiting state's task token
    error: dict[str, Any] | None = None  # failure_record: the caught {Error, Cause}


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
    workflow: str  # the deployed workflow the parent run belongs to (the key prefix of its objects)
    map: MapRun | None = None  # set: this execution runs one map node's items, not a graph


class MapRun(BaseModel):
    """An interpreter execution that is a dynamic graph's map runner: its one Distributed Map's
    batching (``map_prepare``'s ``batch_size``) and the node's ``DagNode.concurrency`` and ``tolerated``;
    for a map over a container task, the node's ``DagNode.kind`` and its batches' limit (``timeout``),
    and the batch container's sizes: over a Fargate task ``cpu``, ``memory``, ``disk`` (RunTask's
    ``Overrides``), over a Batch task ``queue``, ``on_demand_queue``, ``job_name`` and ``resources``
    (SubmitJob's, as the node's ``DagNode``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    batch_size: int
    concurrency: int = 0
    tolerated: int = 0
    kind: str = "map"  # a protocol.Dispatch map kind (its value: the wire holds strings)
    cpu: str = ""
    memory: str = ""
    disk: int = 21
    timeout: int = 0  # a container map's batch limit in seconds (map_prepare's batch_timeout; 0: none)
    queue: str = ""
    on_demand_queue: str = ""
    job_name: str = ""
    resources: list[dict[str, str]] = []


def actor_message_body(*, mode: Mode | None = None, **fields: str | Path) -> dict[str, Any]:
    """An actor task's SQS ``MessageBody``: the state's task token and its event (:class:`ActorMessage`).

    Example:
        >>> actor_message_body(run=EXECUTION_NAME, spec="specs/w/0.json", node="a")["token.$"]
        '$$.Task.Token'
    """
    return {"token.$": TASK_TOKEN, "event": event_parameters(mode=mode, **fields)}


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
    Mode.ACTOR_ENSURE: ActorEnsureResult,
    Mode.GATE_WAIT: DoneResult,  # what the invocation returns; the state waits for the token's answer
    Mode.GATE_FINISH: DoneResult,
    Mode.FAILURE_RECORD: DoneResult,
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


class DynamicCompute(BaseModel):
    """What container compute dynamic graphs may use (:data:`ENV_DYNAMIC_COMPUTE` on the runner).

    The stack decides at synth: see ``infra.stacks.dynamic_compute``. ``batch_queues`` maps a
    :func:`batch_queue` placeholder name to the queue's ARN; ``image_functions`` maps an image tag
    to the ARN of that image's Lambda function, for the Lambda tasks with an image that dynamic
    graphs may call, and ``image_task_definitions`` an image tag to the ARN of that image's generic
    task definition (:func:`dynamic_task_definition`), for its Fargate tasks. A function planning
    a ``@dynamic`` with an image of its own holds a copy with the image functions' tags only
    (empty ARNs): a function's environment cannot name its own ARN (a CloudFormation cycle), and
    its plan only checks the graph (``runtime.check_remote_graph``); the shared runner dispatches
    (``Mode.DAG_NEXT``) and holds the ARNs.
    """

    model_config = ConfigDict(frozen=True)

    fargate: bool = False
    batch_queues: dict[str, str] = {}
    image_functions: dict[str, str] = {}
    image_task_definitions: dict[str, str] = {}

    def tags_only(self) -> DynamicCompute:
        """This compute with the image functions' ARNs left out (what an image function holds)."""
        return self.model_copy(update={"image_functions": dict.fromkeys(self.image_functions, "")})


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
