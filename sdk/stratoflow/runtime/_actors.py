"""The ensure step of an actor task (``Mode.ACTOR_ENSURE``): keep ``replica_count`` workers running.

Run by the runner Lambda before an actor task's event goes to the queue (and again after a
worker was lost): it counts the environment's running workers (``ecs:ListTasks`` by the
``startedBy`` all of them are started with) and starts the shortfall (``ecs:RunTask``, at most
10 per call) from the environment's :class:`protocol.ActorPool`: on Fargate Spot for an
interruptible environment, on on-demand Fargate for the workers Spot has no capacity for. The
environment and its ``replica_count`` come from the deployed spec, the pool from the runner's
own settings (``ENV_ACTORS``), so an event cannot make it start anything else.

Concurrent ensure steps of one environment (parallel branches, map children replacing a lost
worker) would each see too few workers and each start the shortfall, so each takes a short
lock first: a conditional put of ``ACTOR_LOCK_PREFIX + name`` in the cache table, under the
workflow's leading key (``protocol.cache_item_key``). A step that
finds the lock taken starts nothing: the holder is starting the workers its task will also
use. A lock is released when its step ends and expires after :data:`LOCK_SECONDS` if the
step died holding it.
"""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow.errors import ConfigError
from stratoflow.ir import protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["LOCK_SECONDS", "ensure_workers"]

LOCK_SECONDS = 30
"""How long a dead ensure step's lock blocks the others (RunTask answers in about a second)."""

_MAX_PER_RUN_TASK = 10  # ecs:RunTask's count limit
_CLIENT_LOCK = threading.Lock()


@cache
def _ecs() -> Any:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 - only the ensure step talks to ECS

    # boto3's default session is not thread-safe while it builds clients.
    with _CLIENT_LOCK:
        return boto3.client("ecs")


def _actor_of(spec: ir.WorkflowSpec, node_id: str) -> ir.ActorRef:
    node = spec.node(node_id)
    task = spec.tasks[node.task] if isinstance(node, ir.TaskNode | ir.MapNode) else None
    if task is None or task.actor is None:
        raise ConfigError(f"actor_ensure: node '{node_id}' of workflow '{spec.name}' is not an actor task")
    return task.actor


def _lock_key(workflow: str, name: str) -> str:
    # In the cache table, under the workflow's leading key: its roles may write only those items.
    return protocol.cache_item_key(workflow, protocol.ACTOR_LOCK_PREFIX + name)


def _take_lock(dynamodb: DynamoDBClient, table: str, key: str) -> bool:
    now = int(time.time())
    try:
        dynamodb.put_item(
            TableName=table,
            Item={"pk": {"S": key}, "ttl": {"N": str(now + LOCK_SECONDS)}},
            ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _running(ecs: Any, pool: protocol.ActorPool, group: str) -> int:
    count = 0
    for page in ecs.get_paginator("list_tasks").paginate(
        cluster=pool.cluster, startedBy=group, desiredStatus="RUNNING"
    ):
        count += len(page["taskArns"])
    return count


_SPOT: dict[str, Any] = {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}
_ON_DEMAND: dict[str, Any] = {"launchType": "FARGATE"}


def _no_spot_capacity(failures: list[dict[str, Any]]) -> bool:
    """Whether ECS refused only for want of Spot capacity ("Capacity is unavailable at this time")."""
    return all("capacity" in str(f.get("reason", "")).lower() for f in failures)


def _start(ecs: Any, pool: protocol.ActorPool, group: str, count: int) -> int:
    """Start ``count`` workers; an interruptible pool's on Spot, falling back to on-demand Fargate
    for the workers Spot has no capacity for (a worker that never starts would leave its tasks
    waiting until their heartbeats time out, and the next ensure step would ask Spot again)."""
    capacity = _SPOT if pool.spot else _ON_DEMAND
    started = 0
    while started < count:
        batch = min(_MAX_PER_RUN_TASK, count - started)
        response = ecs.run_task(
            cluster=pool.cluster,
            taskDefinition=pool.task_definition,
            count=batch,
            startedBy=group,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": pool.subnets,
                    "securityGroups": pool.security_groups,
                    "assignPublicIp": "DISABLED",
                }
            },
            **capacity,
        )
        failures = response.get("failures") or []
        if failures and capacity is _SPOT and _no_spot_capacity(failures):
            capacity = _ON_DEMAND  # for this and the remaining batches of this step
        elif failures:
            reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in failures)
            raise ConfigError(f"actor_ensure: ecs:RunTask of {pool.task_definition} failed: {reasons}")
        started += len(response.get("tasks", []))
    return started


def ensure_workers(
    spec: ir.WorkflowSpec,
    node_id: str,
    *,
    pools: protocol.ActorPools,
    dynamodb: DynamoDBClient,
    table: str,
    ecs: Any = None,
    workflow: str = "",
) -> protocol.ActorEnsureResult:
    """Start workers of ``node_id``'s environment until ``replica_count`` run (module docstring).

    Raises:
        ConfigError: the node is not an actor task, the stack deployed no pool for its
            environment, or ECS refused to start a worker.
    """
    actor = _actor_of(spec, node_id)
    pool = pools.pools.get(protocol.actor_slug(actor.name))
    if pool is None:
        raise ConfigError(
            f"actor_ensure: no worker pool for ActorEnvironment '{actor.name}' in {protocol.ENV_ACTORS} "
            "(deploy the stack with this workflow)"
        )
    client = ecs or _ecs()
    workflow = workflow or spec.name
    group = protocol.actor_worker_group(actor.name, workflow)
    lock = _lock_key(workflow, actor.name)
    if not _take_lock(dynamodb, table, lock):
        return protocol.ActorEnsureResult(node=node_id, environment=actor.name, running=-1, started=0)
    try:
        running = _running(client, pool, group)
        started = (
            _start(client, pool, group, actor.replica_count - running) if running < actor.replica_count else 0
        )
    finally:
        dynamodb.delete_item(TableName=table, Key={"pk": {"S": lock}})
    return protocol.ActorEnsureResult(node=node_id, environment=actor.name, running=running, started=started)
