"""The ensure step's Spot fallback: workers Fargate Spot has no capacity for start on on-demand Fargate.

Fakes over mocks: an ECS client that answers RunTask as ECS does when Spot is out of capacity
(a ``failures`` entry per task it could not place), and a cache table that only takes the lock.
"""

from __future__ import annotations

from typing import Any

import pytest

from stratoflow.errors import ConfigError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime._actors import ensure_workers
from tests.emulated import actor_flows

REPLICAS = actor_flows.pool.replica_count  # one_score's environment: 2 workers

SPOT_REFUSAL = (
    "Capacity is unavailable at this time. Please try again later or in a different availability zone"
)


class FakeEcs:
    """ECS with ``spot_capacity`` Spot tasks left; every RunTask call is recorded."""

    def __init__(self, spot_capacity: int, refusal: str = SPOT_REFUSAL) -> None:
        self.spot_capacity = spot_capacity
        self.refusal = refusal
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_tasks"
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"taskArns": []}]

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        count = kwargs["count"]
        placed = count
        if "capacityProviderStrategy" in kwargs:
            placed = min(count, self.spot_capacity)
            self.spot_capacity -= placed
        tasks = [{"taskArn": f"arn:task/{len(self.calls)}-{i}"} for i in range(placed)]
        failures = [{"arn": "", "reason": self.refusal} for _ in range(count - placed)]
        return {"tasks": tasks, "failures": failures}


class FakeTable:
    class exceptions:  # boto3's spelling
        class ConditionalCheckFailedException(Exception):
            pass

    def put_item(self, **_: Any) -> None:
        return None

    def delete_item(self, **_: Any) -> None:
        return None


def _pools(*, spot: bool) -> protocol.ActorPools:
    pool = protocol.ActorPool(
        cluster="arn:cluster",
        task_definition="arn:td/worker",
        subnets=["s"],
        security_groups=["g"],
        spot=spot,
    )
    return protocol.ActorPools(pools={protocol.actor_slug(actor_flows.pool.name): pool})


def _ensure(ecs: FakeEcs, *, spot: bool = True) -> protocol.ActorEnsureResult:
    spec = lower(actor_flows.one_score)
    (node,) = spec.nodes
    return ensure_workers(
        spec,
        node.id,
        pools=_pools(spot=spot),
        dynamodb=FakeTable(),  # type: ignore[arg-type]  # a fake with only what the step calls
        table="t",
        ecs=ecs,
    )


def _capacity(call: dict[str, Any]) -> str:
    if "capacityProviderStrategy" in call:
        return str(call["capacityProviderStrategy"][0]["capacityProvider"])
    return f"launchType={call['launchType']}"


def test_spot_capacity_is_used_while_there_is_some() -> None:
    ecs = FakeEcs(spot_capacity=REPLICAS)
    assert _ensure(ecs).started == REPLICAS
    assert [_capacity(c) for c in ecs.calls] == ["FARGATE_SPOT"]


def test_workers_spot_cannot_place_start_on_demand() -> None:
    ecs = FakeEcs(spot_capacity=1)
    result = _ensure(ecs)
    assert (result.running, result.started) == (0, REPLICAS)
    assert [(_capacity(c), c["count"]) for c in ecs.calls] == [
        ("FARGATE_SPOT", REPLICAS),
        ("launchType=FARGATE", REPLICAS - 1),
    ]


def test_an_on_demand_pool_never_asks_spot() -> None:
    ecs = FakeEcs(spot_capacity=0)
    assert _ensure(ecs, spot=False).started == REPLICAS
    assert [_capacity(c) for c in ecs.calls] == ["launchType=FARGATE"]


def test_a_refusal_that_is_not_about_capacity_still_fails_the_step() -> None:
    ecs = FakeEcs(spot_capacity=0, refusal="RESOURCE:ENI")
    with pytest.raises(ConfigError, match=r"ecs:RunTask of arn:td/worker failed: RESOURCE:ENI"):
        _ensure(ecs)
    assert len(ecs.calls) == 1
