"""What each runner mode returns (a state's ``$.Payload``): one typed model per mode, and the
JSON ``Cause`` of a failed task.

Part of the wire contract, spelled ``protocol.<name>`` (re-exported by ``ir._protocol``,
which maps each ``Mode`` to its model in ``RESULTS``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from stratoflow.ir._names import TRACEBACK_MAX

if TYPE_CHECKING:
    from stratoflow.errors import TaskFailedError

__all__ = [
    "BranchDecideResult",
    "CacheCheckResult",
    "DagNextResult",
    "DagNode",
    "Dispatch",
    "DoneResult",
    "DynamicPlanResult",
    "FailureCause",
    "MapItemsResult",
    "MapPrepareResult",
    "Result",
    "RunResult",
]


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
    LAMBDA_IMAGE = "lambda_image"  # ``dag_run`` in the task's image function (``DagNode.function``)
    FARGATE = "fargate"
    FARGATE_SPOT = "fargate_spot"
    FARGATE_IMAGE = "fargate_image"  # the task's image's task definition (``DagNode.task_definition``)
    FARGATE_IMAGE_SPOT = "fargate_image_spot"
    BATCH = "batch"
    BATCH_SPOT = "batch_spot"
    DYNAMIC = "dynamic"  # plan, start the interpreter itself, finish
    MAP = "map"  # map_prepare, the interpreter itself as a Distributed Map (``MapRun``), map_gather
    MAP_FARGATE = "map_fargate"  # the same, each batch of items in one Fargate container (``DagNode`` sizes)
    MAP_FARGATE_SPOT = "map_fargate_spot"  # ... on Fargate Spot, a reclaimed batch once more on on-demand
    MAP_BATCH = (
        "map_batch"  # the same, each batch of items in one AWS Batch job (``DagNode`` queue, resources)
    )
    MAP_BATCH_SPOT = (
        "map_batch_spot"  # ... on the Spot queue, a reclaimed batch once more on the on-demand one
    )
    SLEEP = "sleep"  # a ``Wait`` of ``DagNode.seconds``, then ``gate_finish`` (which marks it done)
    GATE = "gate"  # wait_for_input / approve: ``gate_wait`` with the task token, then ``gate_finish``


class DagNode(BaseModel):
    """One ready node of a dynamic graph and what its container (if any) needs.

    Fargate, and a map over a Fargate task (each batch's container): ``cpu`` (CPU units) and
    ``memory`` (MiB) as the strings RunTask's ``Overrides`` take, ``disk`` in GiB (at least Fargate's 21).
    Batch, and a map over a Batch task (each batch's job): ``queue`` (the job queue's ARN; the
    on-demand one in ``on_demand_queue``), ``job_name`` and ``resources``
    (``ContainerOverrides.ResourceRequirements``).
    Lambda with an image: ``function``, the ARN of that image's function (``DynamicCompute.image_functions``);
    Fargate with an image: ``task_definition``, that image's (``DynamicCompute.image_task_definitions``).
    A gate: ``seconds`` (a sleep's wait, a signal's timeout) and, for a signal, ``cause``: the
    ``FailureCause`` JSON its timeout fails with (the words a local run uses).
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
    function: str = ""  # lambda_image: the image function's ARN
    task_definition: str = ""  # fargate_image(_spot): the image's task definition ARN
    concurrency: int = 0  # map kinds: the Distributed Map's MaxConcurrency (0: no limit)
    tolerated: int = 0  # map kinds: its ToleratedFailurePercentage (crashed batches only)
    seconds: int = 0  # sleep: how long; gate: its timeout
    cause: str = ""  # gate: the FailureCause JSON of its timeout


class DagNextResult(Result):
    """``dag_next``: the next ready nodes of a dynamic graph, and whether it is finished."""

    nodes: list[DagNode]
    done: bool


class BranchDecideResult(Result):
    """``branch_decide``: the index of the conditional's case to run (a ``Choice`` reads it)."""

    case: int


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
