"""The interpreter's ECS states: a Fargate node's ``ecs:runTask.sync`` of the generic dynamic task
definition, the Spot-reclaim fallback, and the map runner of a map over a Fargate task, whose
Distributed Map (:func:`container_map_run`) a map over a Batch task shares (``_interpreter_batch``).

A map over a Fargate task (``Dispatch.MAP_FARGATE`` / ``MAP_FARGATE_SPOT``) runs as a Lambda map
does in a dynamic graph (``_interpreter``: ``Mode.MAP_PREPARE``, the interpreter itself as a map
runner, ``Mode.MAP_GATHER``), but the runner's Distributed Map has STANDARD children (EXPRESS ones
cannot wait on ``.sync``) that each run one batch in one container, as a static container map's
do (``_map.container_item_processor``): the generic dynamic task definition with the node's
cpu, memory and disk (``MapRun``, carried to each child in ``BatchInput``) as ``Overrides``, and
the batch's event (``Mode.MAP_ITEMS``, the indices as JSON) in the container's environment. The
batch size is ``map_prepare``'s (``runtime.container_batching``, as a static container map's).

A batch runs under ``map_prepare``'s ``batch_timeout`` when the task declares a ``timeout``, as a
static container map's does. Unlike a static container map's batch state, a child has no
``Retry``: the generic definition cannot hold a node's ``retries`` literally. The task's retries
apply per item inside the container, as locally; a batch whose container crashes is a failed
child (``ToleratedFailurePercentage``), and its unfinished items count as failed in the gather's
``min_success_ratio``. A Spot batch reclaimed by AWS runs once more on on-demand Fargate (its
checkpointed items are not run again), as a dynamic ``fargate_spot`` node does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from stratoflow.backends.asl._map import INPUT_WORKFLOW, runner_map_state
from stratoflow.backends.asl._states import RUN_TASK_SYNC, ecs_network
from stratoflow.ir import protocol

__all__ = [
    "BATCH_INPUT",
    "CONTAINER_FAILED",
    "MAP_RUNNERS",
    "ContainerMapRun",
    "catch",
    "container_failed",
    "container_map_run",
    "fargate_map_run",
    "map_batch_environment",
    "run_task",
    "spot_fallback",
]

State = dict[str, Any]

CONTAINER_FAILED: Final = "container_failed"
"""The Fail state of a failed container attempt (in each scope that runs one)."""

MAP_RUNNERS: Final = {
    protocol.Dispatch.MAP_FARGATE: "map_run_fargate",
    protocol.Dispatch.MAP_FARGATE_SPOT: "map_run_fargate_spot",
}
"""The map runner's Distributed Map state of each map-over-Fargate kind (``MapRun.kind``)."""

BATCH_INPUT: Final = "$.BatchInput"
"""Inside a map runner's child: the node's run, spec, node and sizes."""


def run_task(
    *, spot: bool, environment: list[dict[str, str]], sizes: str, task_definition: str | None = None
) -> State:
    """``ecs:runTask.sync`` of the generic dynamic task definition (or the one at the path
    ``task_definition``), sized by the ``cpu``, ``memory`` and ``disk`` at the path ``sizes``."""
    parameters: State = {
        "Cluster": protocol.ref(protocol.Placeholder.CLUSTER_ARN),
        "TaskDefinition": protocol.ref(protocol.Placeholder.DYNAMIC_TASK_DEFINITION),
        "NetworkConfiguration": ecs_network(),
        "Overrides": {
            # Task-level sizes: RunTask takes them as strings (CPU units, MiB); dag_next gives
            # only valid Fargate pairs, from the routing rule.
            "Cpu.$": f"{sizes}.cpu",
            "Memory.$": f"{sizes}.memory",
            "EphemeralStorage": {"SizeInGiB.$": f"{sizes}.disk"},
            "ContainerOverrides": [{"Name": protocol.CONTAINER_NAME, "Environment": environment}],
        },
    }
    if task_definition is not None:  # an image's generic task definition, named by the item
        del parameters["TaskDefinition"]
        parameters["TaskDefinition.$"] = task_definition
    if spot:
        parameters["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    else:
        parameters["LaunchType"] = "FARGATE"
    return {"Type": "Task", "Resource": RUN_TASK_SYNC, "Parameters": parameters}


def catch(next_state: str) -> list[State]:
    """Catch a failed task (``States.TaskFailed``) into ``$.error`` and go to ``next_state``."""
    return [{"ErrorEquals": [protocol.STATES_TASK_FAILED], "ResultPath": "$.error", "Next": next_state}]


def spot_fallback(
    name: str, field: str, matches: State, on_demand: str, failed: str = CONTAINER_FAILED
) -> dict[str, State]:
    """Parse a failed Spot attempt's ``Cause``; a reclaim goes to ``on_demand``, anything else to
    ``failed`` (a :func:`container_failed` state the caller adds)."""
    parse, choice = f"{name}_failed", f"{name}_reclaimed"
    return {
        parse: {
            "Type": "Pass",
            "Parameters": {"Cause.$": "$.error.Cause", "job.$": "States.StringToJson($.error.Cause)"},
            "ResultPath": "$.error",
            "Next": choice,
        },
        choice: {
            "Type": "Choice",
            # Rules are tried in order, so the comparison never sees a missing field.
            "Choices": [
                {"Not": {"Variable": f"$.error.job.{field}", "IsPresent": True}, "Next": failed},
                {"Variable": f"$.error.job.{field}", **matches, "Next": on_demand},
            ],
            "Default": failed,
        },
    }


def container_failed() -> State:
    # A Fail state may not raise a States.* name: the SDK's own, with the ECS task or Batch job as Cause.
    return {"Type": "Fail", "Error": protocol.TASK_FAILED, "CausePath": "$.error.Cause"}


def _batch_end(state: State) -> State:
    # What the Map collects per batch: `{}` (the container's results are in S3).
    return {**state, "ResultPath": None, "OutputPath": None, "End": True}


def map_batch_environment() -> list[dict[str, str]]:
    """A map runner's batch container's environment: its run, spec and node from ``BatchInput``,
    ``Mode.MAP_ITEMS`` and the batch's indices as JSON (as a static container map's)."""
    return protocol.container_environment(
        run=protocol.Path(f"{BATCH_INPUT}.run"),
        spec=protocol.Path(f"{BATCH_INPUT}.spec"),
        node=protocol.Path(f"{BATCH_INPUT}.node"),
        mode=protocol.Mode.MAP_ITEMS,
        items=protocol.Path("States.JsonToString($.Items)"),
    )


@dataclass(frozen=True)
class ContainerMapRun:
    """How a map runner's child runs one batch in one container (an ECS task or a Batch job).

    ``attempt(on_spot)`` is the batch's ``.sync`` Task state on Spot or on-demand capacity;
    ``reclaim_field`` and ``reclaimed`` tell a reclaimed Spot attempt in the failure's ``Cause``
    (``spot_fallback``); ``sizes`` are the ``MapRun`` fields the children read from ``BatchInput``.
    """

    label: str
    attempt: Callable[[bool], State]
    reclaim_field: str
    reclaimed: State
    sizes: tuple[str, ...]


def _batch_attempts(
    how: ContainerMapRun, prefix: str, *, spot: bool, timed: bool
) -> tuple[str, dict[str, State]]:
    """One batch's container attempts (Spot, then on-demand once if reclaimed), states named from
    ``prefix``, each under the batch's limit when ``timed``; returns (entry, states)."""

    def attempt(*, on_spot: bool) -> State:
        state = _batch_end(how.attempt(on_spot))
        if timed:  # map_prepare's batch_timeout: the batch's size times the task's worst item, plus start-up
            state["TimeoutSecondsPath"] = f"{BATCH_INPUT}.timeout"
        return state

    batch, batch_spot, failed = f"{prefix}_batch", f"{prefix}_batch_spot", f"{prefix}_failed"
    if not spot:
        return batch, {batch: attempt(on_spot=False)}
    first = attempt(on_spot=True)
    first["Catch"] = catch(f"{batch_spot}_failed")
    return batch_spot, {
        batch_spot: first,
        **spot_fallback(batch_spot, how.reclaim_field, how.reclaimed, batch, failed),
        batch: attempt(on_spot=False),
        failed: container_failed(),
    }


def container_map_run(
    how: ContainerMapRun, *, spot: bool, run: protocol.Path, spec: protocol.Path, node: protocol.Path
) -> State:
    """The map runner's Distributed Map of a map over a container task (``Input.map``: ``MapRun``);
    the caller sets ``Next`` or ``End``.

    A child starts with a ``Choice`` on its batch's limit (``MapRun.timeout``): a task with a
    ``timeout`` runs its batches under ``TimeoutSecondsPath``, as a static container map's do;
    without one (0, which ``TimeoutSecondsPath`` cannot take) they have no limit.
    """
    # State names are unique in the whole definition: each runner's are prefixed with its own.
    untimed, states = _batch_attempts(how, how.label, spot=spot, timed=False)
    timed, timed_states = _batch_attempts(how, f"{how.label}_timed", spot=spot, timed=True)
    limited = f"{how.label}_limited"
    states = {
        limited: {
            "Type": "Choice",
            "Choices": [{"Variable": f"{BATCH_INPUT}.timeout", "NumericGreaterThan": 0, "Next": timed}],
            "Default": untimed,
        },
        **states,
        **timed_states,
    }
    batch_input = {f"{name}.$": f"$.map.{name}" for name in (*how.sizes, "timeout")}
    state = runner_map_state(
        workflow=INPUT_WORKFLOW, run=run, spec=spec, node=node, settings="$.map", label=how.label
    )
    state["ItemBatcher"]["BatchInput"].update(batch_input)
    state["ItemProcessor"] = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": limited,
        "States": states,
    }
    return state


def fargate_map_run(*, spot: bool, run: protocol.Path, spec: protocol.Path, node: protocol.Path) -> State:
    """The map runner's Distributed Map of a map over a Fargate task: each batch an
    ``ecs:runTask.sync`` of the generic task definition with the node's sizes."""
    environment = map_batch_environment()
    how = ContainerMapRun(
        label=MAP_RUNNERS[protocol.Dispatch.MAP_FARGATE_SPOT if spot else protocol.Dispatch.MAP_FARGATE],
        attempt=lambda on_spot: run_task(spot=on_spot, environment=environment, sizes=BATCH_INPUT),
        reclaim_field="StopCode",
        reclaimed={"StringEquals": protocol.SPOT_INTERRUPTION_STOP_CODE},
        sizes=("cpu", "memory", "disk"),
    )
    return container_map_run(how, spot=spot, run=run, spec=spec, node=node)
