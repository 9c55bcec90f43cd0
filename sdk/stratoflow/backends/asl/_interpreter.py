"""The one generic state machine that runs every ``@dynamic`` sub-workflow (the interpreter).

It is a loop: the runner's ``Mode.DAG_NEXT`` returns the nodes whose upstream nodes have
outputs and which have none themselves (at most ``stratoflow.runtime.DAG_BATCH`` per round, and
``done`` when every node has outputs; a conditional, which a sub-workflow the body calls may
bring, it decides itself, so the taken case's nodes are among those it returns and the
conditional's outputs are stored once they ran: ``runtime.ready_nodes``), each as a
``protocol.DagNode`` saying how to run it; an
inline ``Map`` runs them (at most :data:`DAG_CONCURRENCY` at once); then back to the next round.
Each item starts with a ``Choice`` on ``DagNode.kind``:

- ``lambda``: ``Mode.DAG_RUN`` in the runner (a task with its retries; a map node, all its items).
- ``lambda_image`` (a Lambda task with an image of its own): ``Mode.DAG_RUN`` in that image's
  function, ``FunctionName.$`` from the item (``DagNode.function``: the ARN the stack gave the
  runner in ``protocol.DynamicCompute``), as a static node of that image runs on it.
- ``fargate`` / ``fargate_spot``: ``ecs:runTask.sync`` of the generic task definition
  (``Placeholder.DYNAMIC_TASK_DEFINITION``) with the node's task-level cpu, memory and ephemeral
  storage as ``Overrides``; the container runs ``Mode.DAG_RUN`` too, so the task's retries happen
  in the container. A Spot task reclaimed by AWS runs once more on on-demand Fargate.
- ``fargate_image`` / ``fargate_image_spot`` (a Fargate task with an image of its own): the same,
  with the task definition the item names (``DagNode.task_definition``: that image's generic one,
  ``protocol.dynamic_task_definition``), whose container is built from the image.
- ``batch`` / ``batch_spot``: ``batch:submitJob.sync`` of the generic job definition
  (``Placeholder.DYNAMIC_JOB_DEFINITION``) on the queue ``dag_next`` names, with the node's
  ``ResourceRequirements``; a reclaimed Spot job runs once more on the on-demand queue.
- ``dynamic`` (nested, or recursive): plan, ``states:startExecution.sync:2`` of the interpreter
  itself (``$$.StateMachine.Id``, so the definition names no ARN of its own), finish.
- ``map`` (a ``map_task`` over a Lambda task): ``Mode.MAP_PREPARE``, then the interpreter itself
  again, as a *map runner* (its input's ``map``, a ``protocol.MapRun``): that execution's one state
  is a Distributed Map with EXPRESS children running batches in the runner (``_map.runner_map_state``,
  the static Lambda map's children with run, spec and node read from the input), then
  ``Mode.MAP_GATHER``. Why another execution and not the Distributed Map in the item: every
  Distributed Map AWS documents is top level or inside a Distributed Map's children, none inside
  an Inline Map's ``ItemProcessor`` (not confirmed either way), so the Map sits where it is known
  to work; a separate "map runner" machine would be a second generic definition, role and ARN
  to wire for nothing the input flag cannot do.
- ``map_fargate`` / ``map_fargate_spot`` (a ``map_task`` over a Fargate task): the same three
  steps; the map runner's Distributed Map has STANDARD children, each running one batch in one
  container of the generic task definition with the node's sizes (``_interpreter_ecs``, whose
  docstring says what differs from a static container map).
- ``map_batch`` / ``map_batch_spot`` (a ``map_task`` over a Batch task, a GPU one say): the same,
  each batch one job of the generic job definition on the node's queue with its
  ``ResourceRequirements`` (``_interpreter_batch``). A map over a task with an image of its own
  fails at plan time (``runtime.check_remote_graph``).
- ``sleep``: a ``Wait`` of the item's ``seconds``, then ``Mode.GATE_FINISH`` (stores the gate's
  empty outputs, which is what makes a node done for ``dag_next``).
- ``gate`` (``wait_for_input``, ``approve``): as a static gate (``_gates``), a
  ``lambda:invoke.waitForTaskToken`` of ``Mode.GATE_WAIT`` (the token under the sub run, where
  ``stratoflow signal`` looks for it from the parent's id) with the item's ``seconds`` as its
  timeout, then ``Mode.GATE_FINISH``; past the timeout it fails with the item's ``cause``, the
  words a local run uses.

Payloads only ever hold node ids and the few fields of their ``DagNode``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stratoflow.backends.asl._dynamic import _invoke
from stratoflow.backends.asl._interpreter_batch import MAP_RUNNERS as BATCH_MAP_RUNNERS
from stratoflow.backends.asl._interpreter_batch import batch_map_run, submit_job
from stratoflow.backends.asl._interpreter_ecs import (
    CONTAINER_FAILED,
    catch,
    container_failed,
    fargate_map_run,
    run_task,
    spot_fallback,
)
from stratoflow.backends.asl._interpreter_ecs import MAP_RUNNERS as FARGATE_MAP_RUNNERS
from stratoflow.backends.asl._interpreter_nodes import (
    NODE,
    RUN,
    SPEC,
    WORKFLOW,
    State,
    dynamic_node_states,
    gate_states,
    image_node_state,
    item_end,
    item_event,
    map_node_states,
)
from stratoflow.backends.asl._map import runner_map_state
from stratoflow.ir import protocol

__all__ = ["DAG_CONCURRENCY", "interpreter_definition"]

DAG_CONCURRENCY: Final = 10
"""Nodes of a dynamic graph running at once (per interpreter execution)."""


def _environment() -> list[dict[str, str]]:
    return protocol.container_environment(run=RUN, spec=SPEC, node=NODE, mode=protocol.Mode.DAG_RUN)


def _fargate(*, spot: bool, image: bool = False) -> State:
    # An image's generic task definition is the one the item names (dag_next's DagNode.task_definition).
    definition = "$.task.task_definition" if image else None
    return run_task(spot=spot, environment=_environment(), sizes="$.task", task_definition=definition)


def _batch(queue: str) -> State:
    return submit_job(queue=queue, environment=_environment(), job="$.task")


def _kind_choice(variable: str, targets: Mapping[protocol.Dispatch, str], *, default: str) -> State:
    """A ``Choice`` going to ``targets[kind]`` when ``variable`` is that kind, else to ``default``."""
    return {
        "Type": "Choice",
        "Choices": [
            {"Variable": variable, "StringEquals": kind.value, "Next": state}
            for kind, state in targets.items()
        ],
        "Default": default,
    }


def _item_states(*, fargate: bool, batch: bool, images: bool) -> dict[str, State]:
    kinds = {
        protocol.Dispatch.DYNAMIC: "dynamic_plan",
        protocol.Dispatch.MAP: "map_prepare",
        protocol.Dispatch.SLEEP: "sleep",
        protocol.Dispatch.GATE: "gate",
    }
    states: dict[str, State] = gate_states()
    if images:
        kinds[protocol.Dispatch.LAMBDA_IMAGE] = "run_image_node"
        states["run_image_node"] = image_node_state()
    if fargate:
        kinds.update({protocol.Dispatch.FARGATE: "fargate", protocol.Dispatch.FARGATE_SPOT: "fargate_spot"})
        # A map over a Fargate task: prepared and gathered as a Lambda map, its runner's batches in containers.
        kinds.update(dict.fromkeys(FARGATE_MAP_RUNNERS, "map_prepare"))
        states.update(_fargate_states("fargate", image=False))
    if fargate and images:
        kinds.update(
            {
                protocol.Dispatch.FARGATE_IMAGE: "fargate_image",
                protocol.Dispatch.FARGATE_IMAGE_SPOT: "fargate_image_spot",
            }
        )
        states.update(_fargate_states("fargate_image", image=True))
    if batch:
        kinds.update({protocol.Dispatch.BATCH: "batch", protocol.Dispatch.BATCH_SPOT: "batch_spot"})
        # A map over a Batch task: the same, its runner's batches in Batch jobs.
        kinds.update(dict.fromkeys(BATCH_MAP_RUNNERS, "map_prepare"))
        states.update(_batch_states())
    if fargate or batch:
        states[CONTAINER_FAILED] = container_failed()
    return {
        "dispatch": _kind_choice("$.task.kind", kinds, default="run_node"),
        "run_node": item_end(_invoke(item_event(protocol.Mode.DAG_RUN))),
        **dynamic_node_states(),
        **map_node_states(),
        **states,
        "node_done": {"Type": "Succeed"},
    }


def _fargate_states(name: str, *, image: bool) -> dict[str, State]:
    spot = {**_fargate(spot=True, image=image), "ResultPath": None, "OutputPath": None, "End": True}
    spot["Catch"] = catch(f"{name}_spot_failed")
    reclaimed = {"StringEquals": protocol.SPOT_INTERRUPTION_STOP_CODE}
    return {
        name: item_end(_fargate(spot=False, image=image)),
        f"{name}_spot": spot,
        **spot_fallback(f"{name}_spot", "StopCode", reclaimed, name),
    }


def _batch_states() -> dict[str, State]:
    spot = {**_batch("$.task.queue"), "ResultPath": None, "OutputPath": None, "End": True}
    spot["Catch"] = catch("batch_spot_failed")
    reclaimed = {"StringMatches": protocol.SPOT_RECLAIM_STATUS_REASON}
    return {
        "batch": item_end(_batch("$.task.on_demand_queue")),
        "batch_spot": spot,
        **spot_fallback("batch_spot", "StatusReason", reclaimed, "batch"),
    }


def _container_map_runners(*, fargate: bool, batch: bool) -> dict[str, State]:
    """A map runner's Choice on its node's kind, and the Distributed Map of each map over a
    container task the stack has compute for (Fargate, Batch)."""
    node = protocol.Path("$.node")
    kinds: dict[protocol.Dispatch, str] = {}
    runners: dict[str, State] = {}
    if fargate:
        kinds.update(FARGATE_MAP_RUNNERS)
        for kind, name in FARGATE_MAP_RUNNERS.items():
            spot = kind is protocol.Dispatch.MAP_FARGATE_SPOT
            runners[name] = {**fargate_map_run(spot=spot, run=RUN, spec=SPEC, node=node), "End": True}
    if batch:
        kinds.update(BATCH_MAP_RUNNERS)
        for kind, name in BATCH_MAP_RUNNERS.items():
            spot = kind is protocol.Dispatch.MAP_BATCH_SPOT
            runners[name] = {**batch_map_run(spot=spot, run=RUN, spec=SPEC, node=node), "End": True}
    return {"map_kind": _kind_choice("$.map.kind", kinds, default="map_run"), **runners}


def interpreter_definition(
    *, fargate: bool = True, batch: bool = True, images: bool = True
) -> dict[str, Any]:
    """The generic state machine that runs one dynamic node's sub-workflow.

    Input: a ``protocol.InterpreterInput``; the execution is named after the sub run (a map
    runner's, with ``map`` set, is not named: it runs one map node of that sub run). Its
    placeholders are the runner's ARN and, with ``fargate``, the cluster, subnets, security group
    and the generic task definition; with ``batch``, the generic job definition; ``images`` adds
    the states invoking an image's function and (with ``fargate``) running an image's task
    definition, both named by the item (no placeholder). A stack without
    that compute leaves those states out (``dag_next`` never dispatches to them: the plan fails
    first, ``runtime.check_remote_graph``).

    Example:
        >>> interpreter_definition()["StartAt"]
        'start'
    """
    next_state = _invoke(protocol.event_parameters(run=RUN, spec=SPEC, node="", mode=protocol.Mode.DAG_NEXT))
    next_state.update(
        {
            "ResultSelector": protocol.result_selector(protocol.Mode.DAG_NEXT, "nodes", "done"),
            "ResultPath": "$.next",
            "Next": "finished",
        }
    )
    containers = fargate or batch  # a map runner may run its batches in containers
    return {
        "Comment": "stratoflow @dynamic interpreter: runs one dynamic node's sub-workflow from its IR",
        "StartAt": "start",
        "States": {
            "start": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.map", "IsPresent": True, "Next": "map_kind" if containers else "map_run"}
                ],
                "Default": "next",
            },
            **(_container_map_runners(fargate=fargate, batch=batch) if containers else {}),
            "map_run": {
                **runner_map_state(
                    workflow=WORKFLOW,
                    run=RUN,
                    spec=SPEC,
                    node=protocol.Path("$.node"),
                    settings="$.map",
                    label="dynamic_map",
                ),
                "End": True,
            },
            "next": next_state,
            "finished": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.next.done", "BooleanEquals": True, "Next": "succeeded"}],
                "Default": "run_nodes",
            },
            "run_nodes": {
                "Type": "Map",
                "ItemsPath": "$.next.nodes",
                "ItemSelector": {
                    "task.$": "$$.Map.Item.Value",
                    "run.$": "$.run",
                    "spec.$": "$.spec",
                    "workflow.$": WORKFLOW.expr,
                },
                "MaxConcurrency": DAG_CONCURRENCY,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "dispatch",
                    "States": _item_states(fargate=fargate, batch=batch, images=images),
                },
                "ResultPath": None,
                "Next": "next",
            },
            "succeeded": {"Type": "Succeed"},
        },
    }
