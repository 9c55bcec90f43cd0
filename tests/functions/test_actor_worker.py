"""The actor worker and the ensure step, called directly against emulated AWS.

The ensure step (the runner's ``actor_ensure`` mode) starts the shortfall of an environment's
workers and nothing more, skips while another ensure step holds the environment's lock, and
refuses a node that is not an actor task. The worker runs a queued event with the container
runtime (the end-to-end tests), skips a message it cannot answer or whose token is dead, and
exits when idle.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator

import pytest

from stratoflow.aws import S3BlobStore, S3OutputStore
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import encode_inputs, validate_inputs
from stratoflow.testing import FakeLambdaContext
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import actor_flows, flows

pytestmark = pytest.mark.emulated


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _ensure(sandbox: Sandbox, spec_key: str, node: str) -> dict[str, object]:
    from stratoflow_functions import task_runner

    event = {"run": "r", "spec": spec_key, "node": node, "mode": protocol.Mode.ACTOR_ENSURE.value}
    return task_runner.handler(event, FakeLambdaContext(function_name="stratoflow-task-runner"))


def test_ensure_starts_the_shortfall_once(sandbox: Sandbox) -> None:
    compiled = sandbox.deploy(lower(actor_flows.one_score))
    first = _ensure(sandbox, compiled.spec_key, "score")
    assert (first["running"], first["started"]) == (0, actor_flows.pool.replica_count)
    again = _ensure(sandbox, compiled.spec_key, "score")
    assert (again["running"], again["started"]) == (actor_flows.pool.replica_count, 0)
    assert sandbox.actor_workers[actor_flows.pool.name].starts == actor_flows.pool.replica_count


def test_ensure_starts_nothing_while_another_holds_the_lock(sandbox: Sandbox) -> None:
    compiled = sandbox.deploy(lower(actor_flows.one_score))
    sandbox.aws.client("dynamodb").put_item(
        TableName=sandbox.table,
        # Under the workflow's leading key, where the runner of that workflow takes it.
        Item={
            "pk": {
                "S": protocol.cache_item_key("one_score", protocol.ACTOR_LOCK_PREFIX + actor_flows.pool.name)
            },
            "ttl": {"N": "9999999999"},
        },
    )
    result = _ensure(sandbox, compiled.spec_key, "score")
    assert (result["running"], result["started"]) == (-1, 0)
    assert sandbox.actor_workers[actor_flows.pool.name].starts == 0


def test_ensure_refuses_a_node_that_is_not_an_actor_task(sandbox: Sandbox) -> None:
    compiled = sandbox.deploy(lower(flows.diamond))
    with pytest.raises(Exception, match="node 'double' of workflow 'diamond' is not an actor task"):
        _ensure(sandbox, compiled.spec_key, "double")


def test_a_worker_skips_what_it_cannot_answer_and_exits_when_idle(sandbox: Sandbox) -> None:
    from stratoflow_functions import actor_worker

    spec = lower(actor_flows.idle)
    compiled = sandbox.deploy(spec)
    s3 = sandbox.aws.client("s3")
    literals = encode_inputs(spec, validate_inputs(spec, {"x": 4}), S3BlobStore(s3, sandbox.bucket))
    S3OutputStore(s3, sandbox.bucket, spec.name, "direct").write_inputs(literals)
    sqs = sandbox.aws.client("sqs")
    url = sqs.get_queue_url(QueueName="stratoflow-actor-emu_brief")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="not json")  # skipped: no token to answer
    # A token nobody waits for any more (its state timed out and re-sent the task): not run.
    event = {"run": "direct", "spec": compiled.spec_key, "node": "bump"}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"token": "stale", "event": event}))
    env = {
        **os.environ,
        protocol.ENV_ACTOR_NAME: actor_flows.brief.name,
        protocol.ENV_ACTOR_QUEUE: url,
        protocol.ENV_ACTOR_TTL_SECONDS: "1",
    }
    log = io.StringIO()
    assert actor_worker.run(env, log=log, stop=threading.Event(), max_poll_seconds=1) == 0
    lines = [json.loads(line)["event"] for line in log.getvalue().splitlines()]
    assert lines == ["started", "bad_message", "stale_message", "idle_exit"]
    assert "bump" not in S3OutputStore(s3, sandbox.bucket, spec.name, "direct").completed_nodes()


def test_a_worker_without_its_queue_is_a_config_error() -> None:
    from stratoflow_functions import actor_worker

    log = io.StringIO()
    assert actor_worker.run({}, log=log) == 2
    assert json.loads(log.getvalue())["error"] == "ConfigError"
