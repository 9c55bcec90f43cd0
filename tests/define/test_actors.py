"""``ActorEnvironment`` / ``@env.task`` / ``@actor_cache``: what the definition layer records."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from stratoflow import ActorEnvironment, DefinitionError, Resources, actor_cache, ir
from stratoflow.define._actors import DEFAULT_TTL_SECONDS

env = ActorEnvironment(
    name="scorers",
    replica_count=2,
    ttl_seconds=30,
    requests=Resources(cpu="2", mem="4Gi"),
    interruptible=True,
)


@env.task
def score(x: int) -> int:
    return x + 1


@env.task(retries=2, cache=True)
def score_cached(x: int) -> int:
    return x + 2


def test_an_actor_task_names_its_environment_and_takes_its_resources() -> None:
    assert score.spec.actor == ir.ActorRef(name="scorers", replica_count=2, ttl_seconds=30)
    assert score.spec.requests == ir.ResourcesSpec(cpu=2.0, memory_mib=4096)
    assert score.spec.interruptible is True
    assert score(x=1) == 2  # outside a workflow it is the plain function


def test_task_options_other_than_resources_still_apply() -> None:
    assert score_cached.spec.retries == 2
    assert score_cached.spec.cache.enabled
    assert score_cached.spec.actor is not None


def test_the_default_ttl_is_unions() -> None:
    assert ActorEnvironment(name="plain").ref.ttl_seconds == DEFAULT_TTL_SECONDS


def test_a_spec_without_actor_or_image_keeps_its_json() -> None:
    @ActorEnvironment(name="other").task
    def actor_task(x: int) -> int:
        return x

    assert "actor" in actor_task.spec.model_dump()
    plain = actor_task.spec.model_copy(update={"actor": None})
    dumped = plain.model_dump_json()
    assert '"actor"' not in dumped
    assert '"image"' not in dumped
    assert ir.TaskSpec.model_validate_json(actor_task.spec.model_dump_json()) == actor_task.spec


def test_an_actor_task_may_not_set_what_its_workers_share() -> None:
    with pytest.raises(DefinitionError) as raised:

        @env.task(requests=Resources(mem="1Gi"), interruptible=False)
        def greedy(x: int) -> int:
            return x

    message = str(raised.value)
    assert "test_actors.py:" in message
    assert "sets interruptible, requests" in message
    assert "set these on the ActorEnvironment" in message


def test_every_bad_environment_setting_is_reported_at_once_with_the_users_line() -> None:
    with pytest.raises(DefinitionError) as raised:
        ActorEnvironment(name="9 lives", replica_count=0, ttl_seconds=-5)
    problems = raised.value.problems
    assert [p.path.endswith("test_actors.py") for p in problems] == [True, True, True]
    assert "name must start with a letter" in problems[0].message
    assert "replica_count must be an integer >= 1, got 0" in problems[1].message
    assert "ttl_seconds must be an integer >= 1, got -5" in problems[2].message


def test_actor_cache_computes_once_per_distinct_arguments() -> None:
    calls: list[int] = []

    @actor_cache
    def load(seed: int) -> list[int]:
        calls.append(seed)
        return [seed]

    assert load(1) is load(1)
    assert load(2) == [2]
    assert calls == [1, 2]
    assert load.__name__ == "load"
    load.cache_clear()  # type: ignore[attr-defined]
    assert load(1) == [1]
    assert calls == [1, 2, 1]


def test_actor_cache_computes_once_when_threads_ask_at_the_same_time() -> None:
    started = threading.Barrier(8)
    calls: list[int] = []

    @actor_cache
    def slow_load(seed: int) -> int:
        calls.append(seed)
        time.sleep(0.05)  # long enough that the other threads arrive while it runs
        return seed * 10

    def ask() -> int:
        started.wait()
        return slow_load(3)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: ask(), range(8)))
    assert results == [30] * 8
    assert calls == [3]
