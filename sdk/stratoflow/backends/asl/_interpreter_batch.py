"""The interpreter's AWS Batch states: a Batch node's ``batch:submitJob.sync`` of the generic
dynamic job definition, and the map runner of a map over a Batch task (a GPU task, say).

A map over a Batch task (``Dispatch.MAP_BATCH`` / ``MAP_BATCH_SPOT``) runs as a map over a Fargate
task does in a dynamic graph (``_interpreter_ecs``: ``Mode.MAP_PREPARE``, the interpreter itself as
a map runner, ``Mode.MAP_GATHER``), each batch of items one job of the generic job definition on
the node's pool: its queue, job name and ``ResourceRequirements`` (``MapRun``, from the node's
``DagNode``, carried to each child in ``BatchInput``), the batch's event (``Mode.MAP_ITEMS``, the
indices as JSON) in the container's environment, as a static Batch map's batch runs. A batch on the
Spot queue whose host AWS reclaims runs once more on the on-demand queue (its checkpointed items
are not run again), as a dynamic ``batch_spot`` node does. As with Fargate, a child has no
``Retry``: the task's retries apply per item inside the container, and a crashed batch's unfinished
items count as failed in the gather's ``min_success_ratio``.
"""

from __future__ import annotations

from typing import Any, Final

from stratoflow.backends.asl._batch import SUBMIT_JOB_SYNC
from stratoflow.backends.asl._interpreter_ecs import (
    BATCH_INPUT,
    ContainerMapRun,
    container_map_run,
    map_batch_environment,
)
from stratoflow.ir import protocol

__all__ = ["MAP_RUNNERS", "batch_map_run", "submit_job"]

State = dict[str, Any]

MAP_RUNNERS: Final = {
    protocol.Dispatch.MAP_BATCH: "map_run_batch",
    protocol.Dispatch.MAP_BATCH_SPOT: "map_run_batch_spot",
}
"""The map runner's Distributed Map state of each map-over-Batch kind (``MapRun.kind``)."""


def submit_job(*, queue: str, environment: list[dict[str, str]], job: str) -> State:
    """``batch:submitJob.sync`` of the generic dynamic job definition on the queue at the path
    ``queue``, named and sized by the ``job_name`` and ``resources`` at the path ``job``."""
    parameters: State = {
        "JobName.$": f"{job}.job_name",
        "JobQueue.$": queue,
        "JobDefinition": protocol.ref(protocol.Placeholder.DYNAMIC_JOB_DEFINITION),
        "ContainerOverrides": {"Environment": environment, "ResourceRequirements.$": f"{job}.resources"},
    }
    return {"Type": "Task", "Resource": SUBMIT_JOB_SYNC, "Parameters": parameters}


def batch_map_run(*, spot: bool, run: protocol.Path, spec: protocol.Path, node: protocol.Path) -> State:
    """The map runner's Distributed Map of a map over a Batch task: each batch one job on the
    node's Spot queue (``spot``) or on-demand queue; the caller sets ``Next`` or ``End``."""
    environment = map_batch_environment()

    def attempt(on_spot: bool) -> State:
        queue = f"{BATCH_INPUT}.queue" if on_spot else f"{BATCH_INPUT}.on_demand_queue"
        return submit_job(queue=queue, environment=environment, job=BATCH_INPUT)

    how = ContainerMapRun(
        label=MAP_RUNNERS[protocol.Dispatch.MAP_BATCH_SPOT if spot else protocol.Dispatch.MAP_BATCH],
        attempt=attempt,
        # A reclaimed Spot host: the job's StatusReason is "Host EC2 (instance i-...) terminated."
        reclaim_field="StatusReason",
        reclaimed={"StringMatches": protocol.SPOT_RECLAIM_STATUS_REASON},
        sizes=("queue", "on_demand_queue", "job_name", "resources"),
    )
    return container_map_run(how, spot=spot, run=run, spec=spec, node=node)
