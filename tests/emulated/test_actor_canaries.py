"""Canaries of the actor patches (``testing._patches_actors``) and of the queue decision.

Each ``test_raw_*`` asserts what moto 5.2.5 does without the patch; when one fails, moto
changed: check whether the patch is still needed. The activity canary guards the README's
choice of SQS ``.waitForTaskToken`` over a Step Functions activity for actor tasks.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from stratoflow.ir import protocol
from stratoflow.testing import EmulatedAws
from stratoflow.testing._patches_actors import (
    install_ecs_workers,
    install_fast_heartbeats,
    install_heartbeat_timeout_name,
    install_task_failure_cause,
    register_actor_worker,
    unregister_actor_worker,
)
from stratoflow.testing._patches_ecs import ContainerReclaimed

pytestmark = pytest.mark.emulated


def _unanswered(aws: EmulatedAws, heartbeat: int = 1) -> str:
    """A machine whose one task waits for a token nobody answers, with a heartbeat."""
    url = aws.client("sqs").create_queue(QueueName="nobody-listens")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": protocol.TASK_TOKEN}},
        "HeartbeatSeconds": heartbeat,
        "End": True,
    }
    return aws.create_state_machine("unanswered", {"StartAt": "T", "States": {"T": task}})


def test_raw_heartbeat_timeout_is_named_states_timeout(aws: EmulatedAws) -> None:
    install_heartbeat_timeout_name()()  # just this patch out
    assert aws.start_and_wait(_unanswered(aws), {}).error == "States.Timeout"


def test_heartbeat_timeout_name_is_the_aws_one(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(_unanswered(aws), {})
    assert result.error == protocol.STATES_HEARTBEAT_TIMEOUT
    (timed_out,) = result.events_of_type("TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == protocol.STATES_HEARTBEAT_TIMEOUT


def _heartbeat_wait(aws: EmulatedAws, heartbeat: int = 4) -> float:
    started = time.monotonic()
    aws.start_and_wait(_unanswered(aws, heartbeat=heartbeat), {}, timeout=30)
    return time.monotonic() - started


def test_raw_heartbeats_are_waited_in_real_time(aws: EmulatedAws) -> None:
    install_fast_heartbeats(1.0)()  # just this patch out
    assert _heartbeat_wait(aws) >= 3.9


def test_fast_heartbeats_scale_the_wait(aws: EmulatedAws) -> None:
    # 8 s scaled by HEARTBEAT_SCALE (0.2) is 1.6 s: well under 8 even on a loaded machine.
    assert _heartbeat_wait(aws, heartbeat=8) < 6.0


def test_raw_activities_have_no_get_activity_task(raw_aws: EmulatedAws) -> None:
    sfn: Any = raw_aws.client("stepfunctions")
    arn = sfn.create_activity(name="workers")["activityArn"]
    with pytest.raises(Exception, match="get_activity_task action has not been implemented"):
        sfn.get_activity_task(activityArn=arn, workerName="w")


def _run_worker_task(aws: EmulatedAws, family: str) -> tuple[Any, str, str]:
    ecs: Any = aws.client("ecs")
    cluster = aws.create_ecs_cluster("workers")
    definition = aws.create_task_definition(family, environment={"WHO": "worker"})
    subnet = aws.create_subnet()
    (task,) = ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        startedBy="sf-actor-test",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )["tasks"]
    return ecs, cluster, task["taskArn"]


def test_raw_ecs_runs_no_worker(aws: EmulatedAws) -> None:
    install_ecs_workers()()  # just this patch out
    calls: list[dict[str, str]] = []
    register_actor_worker("raw-workers", lambda env, stop: calls.append(env) or 0)
    try:
        _run_worker_task(aws, "raw-workers")
    finally:
        unregister_actor_worker("raw-workers")
    assert calls == []


def test_ecs_workers_run_on_a_thread_until_they_return(aws: EmulatedAws) -> None:
    seen: list[dict[str, str]] = []

    def worker(env: dict[str, str], stop: threading.Event) -> int:
        seen.append(env)
        stop.wait(10)
        return 0

    family = register_actor_worker("test-workers", worker)
    try:
        ecs, cluster, arn = _run_worker_task(aws, "test-workers")
        assert family.starts == 1
        assert ecs.list_tasks(cluster=cluster, startedBy="sf-actor-test", desiredStatus="RUNNING")[
            "taskArns"
        ] == [arn]
        family.stop_all()
        (task,) = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
        assert task["desiredStatus"] == "STOPPED"
        assert task["containers"][0]["exitCode"] == 0
        assert seen[0]["WHO"] == "worker"
    finally:
        unregister_actor_worker("test-workers")


def test_a_reclaimed_worker_stops_with_the_spot_stop_code(aws: EmulatedAws) -> None:
    def worker(env: dict[str, str], stop: threading.Event) -> int:
        raise ContainerReclaimed("gone")

    family = register_actor_worker("reclaimed-workers", worker)
    try:
        ecs, cluster, arn = _run_worker_task(aws, "reclaimed-workers")
        family.stop_all()
        (task,) = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
        assert task["stopCode"] == "SpotInterruption"
        assert task["containers"][0]["exitCode"] == 143
    finally:
        unregister_actor_worker("reclaimed-workers")


def _failed_with_cause(aws: EmulatedAws) -> Any:
    sqs: Any = aws.client("sqs")
    url = sqs.create_queue(QueueName="failing-worker")["QueueUrl"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": url, "MessageBody": {"token.$": protocol.TASK_TOKEN}},
        "End": True,
    }
    arn = aws.create_state_machine("failing", {"StartAt": "T", "States": {"T": task}})
    execution = aws.start_execution(arn, {})
    messages: list[Any] = []
    while not messages:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    token = json.loads(messages[0]["Body"])["token"]
    aws.client("stepfunctions").send_task_failure(taskToken=token, error="ValueError", cause='{"node": "n"}')
    return aws.wait(execution)


def test_raw_send_task_failure_drops_the_cause(aws: EmulatedAws) -> None:
    install_task_failure_cause()()  # just this patch out
    result = _failed_with_cause(aws)
    assert (result.error, result.cause) == ("ValueError", None)


def test_task_failure_cause_reaches_the_execution(aws: EmulatedAws) -> None:
    result = _failed_with_cause(aws)
    assert (result.error, result.cause) == ("ValueError", '{"node": "n"}')
