"""Actor tasks end to end on emulated AWS: warm workers (threads) take tasks from SQS.

200 actor tasks (a 150-item map and a chain of 50, plus one) with ``replica_count=2`` run on at
most two worker starts and give the local run's outputs; the ``@actor_cache`` loader runs at
most once per worker; an idle worker exits after ``ttl_seconds``; a worker killed mid-task has
its task re-sent to another worker (heartbeat timeout) and the run succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import actor_flows as flows
from tests.ops import secret_flows

pytestmark = pytest.mark.emulated

XS = list(range(150))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _ecs_workers(sandbox: Sandbox, workflow: str, environment: str, status: str) -> int:
    ecs = sandbox.aws.client("ecs")
    cluster = sandbox._substitution(protocol.Placeholder.CLUSTER_ARN)
    group = protocol.actor_worker_group(environment, workflow)  # each workflow's pool counts its own
    return len(ecs.list_tasks(cluster=cluster, startedBy=group, desiredStatus=status)["taskArns"])


def test_200_actor_tasks_run_on_at_most_two_worker_starts(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flows.actors)
    expected = run_local(spec, {"xs": XS}, RunOptions(home=tmp_path, progress=False)).outputs
    # The local run above loaded it in this process: start the workers' count from nothing.
    flows.weights.cache_clear()  # type: ignore[attr-defined]  # functools.cache's
    flows.LOADS.clear()
    outputs = sandbox.run(spec, {"xs": XS}, timeout=90).outputs()
    assert outputs == expected
    assert outputs["o0"][:3] == [0, 3, 6]
    assert outputs["o0"][-1] == sum(range(flows.CHAIN))
    workers = sandbox.actor_workers[flows.pool.name]
    assert 1 <= workers.starts <= flows.pool.replica_count
    # Once per worker process on AWS; the emulated workers are threads sharing one process's
    # cache, so here it is once in all, never once per task (150 calls without the cache).
    assert 1 <= len(flows.LOADS) <= workers.starts
    assert _ecs_workers(sandbox, spec.name, flows.pool.name, "RUNNING") == workers.starts
    assert sandbox.aws.runtime_errors() == []


def test_an_idle_worker_exits_after_its_ttl(sandbox: Sandbox) -> None:
    assert sandbox.run(lower(flows.idle), {"x": 1}).outputs() == {"o0": 2}
    workers = sandbox.actor_workers[flows.brief.name]
    deadline = time.monotonic() + 10 * flows.brief.ttl_seconds
    while workers.running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers.running() == 0
    assert _ecs_workers(sandbox, "idle", flows.brief.name, "RUNNING") == 0
    assert _ecs_workers(sandbox, "idle", flows.brief.name, "STOPPED") == workers.starts


def test_a_worker_killed_mid_task_has_its_task_run_by_another(sandbox: Sandbox) -> None:
    workers = sandbox.actor_workers.get(flows.brief.name)
    before = workers.starts if workers else 0
    flows.KILLS.clear()
    execution = sandbox.run(lower(flows.killed), {"x": 41}, timeout=60)
    assert execution.outputs() == {"o0": 42}
    assert flows.KILLS == [41]
    workers = sandbox.actor_workers[flows.brief.name]
    assert workers.starts - before >= 2  # the killed worker and its replacement
    history = sandbox.aws.client("stepfunctions").get_execution_history(executionArn=execution.arn)
    timed_out = [e for e in history["events"] if e["type"] == "TaskTimedOut"]
    # The kill is one heartbeat timeout; on a loaded machine the replacement worker can start later
    # than the (scaled, 12 s) heartbeat window too, and the message times out once more before it runs.
    errors = [e["taskTimedOutEventDetails"]["error"] for e in timed_out]
    assert errors and set(errors) == {protocol.STATES_HEARTBEAT_TIMEOUT}


def test_a_cached_actor_task_skips_its_worker(sandbox: Sandbox) -> None:
    spec = lower(flows.cached)
    flows.CACHED_CALLS.clear()
    first = sandbox.run(spec, {"x": 7})
    second = sandbox.run(spec, {"x": 7})
    assert first.outputs() == second.outputs() == {"o0": 8}
    assert flows.CACHED_CALLS == [7]
    events = sandbox.aws.wait(second.arn).events
    scheduled = [
        e["taskScheduledEventDetails"]["resourceType"] for e in events if e["type"] == "TaskScheduled"
    ]
    assert scheduled == ["lambda"]  # the cache check only: no ensure step, no message


def _failure(sandbox: Sandbox, workflow: object) -> TaskFailedError:
    with pytest.raises(TaskFailedError) as caught:
        sandbox.run(lower(workflow), {"x": 3})  # type: ignore[arg-type]
    return caught.value


def test_a_failing_actor_task_fails_as_a_plain_task_does(sandbox: Sandbox) -> None:
    actor = _failure(sandbox, flows.refused)
    plain = _failure(sandbox, flows.refused_plain)
    assert (actor.error_type, actor.attempt) == (plain.error_type, plain.attempt) == ("ValueError", 2)
    # The same text but for the run id and the node's name.
    actor_text = str(actor).split(" FAILED: ", 1)[1].replace("'refuse'", "'refuse_plain'")
    assert actor_text == str(plain).split(" FAILED: ", 1)[1]
    assert actor_text.endswith("(attempt 2): ValueError: refused x=3")


def test_an_actor_task_gets_its_secret_from_its_workers_task_definition(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "pw-actor-5b2c-VALUE"  # noqa: S105 - a test value
    sandbox.aws.client("secretsmanager").create_secret(Name="stratoflow/db/password", SecretString=password)
    spec = lower(secret_flows.signed_on_actor)
    outputs = sandbox.run(spec, {}).outputs()
    ecs = sandbox.aws.client("ecs")
    (family,) = [f for f in ecs.list_task_definition_families()["families"] if f.endswith("vault")]
    container = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["containerDefinitions"][
        0
    ]
    assert [s["name"] for s in container["secrets"]] == ["STRATOFLOW_SECRET_DB_PASSWORD"]
    # The local run reads the same value from its home's secrets folder.
    (tmp_path / "secrets" / "db").mkdir(parents=True)
    (tmp_path / "secrets" / "db" / "password").write_text(password + "\n")
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    local = run_local(spec, {}, RunOptions(home=tmp_path, progress=False)).outputs
    assert outputs == local == {"o0": len(password)}
