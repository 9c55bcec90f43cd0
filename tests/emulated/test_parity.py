"""The same failing workflows, locally and on emulated AWS, say the same thing.

Each workflow fails (the user's exception on Lambda, Fargate, Fargate Spot and AWS Batch,
or a timeout); the error raised locally and the one the client raises for the emulated
execution must agree on the class, the exception name, the node and the attempt, and the
local message must be what the remote one says after its ``execution <id> FAILED:`` head.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client._failures import FailedExecution, failure
from stratoflow.errors import TaskFailedError, TaskTimeoutError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import parity_flows as flows

FAILING = [
    "lambda_fails",
    "fargate_fails",
    "fargate_spot_fails",
    "batch_fails",
    "times_out",
    "map_item_fails",
    "container_map_item_fails",
    "dag_node_fails",
    "dag_map_item_fails",
    "dag_container_map_item_fails",
    "dag_times_out",
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _local_error(name: str) -> TaskFailedError:
    with pytest.raises(TaskFailedError) as info:
        run_local(lower(getattr(flows, name)), {"x": 3}, RunOptions(retry_base_seconds=0.01, progress=False))
    return info.value


def _remote_error(sandbox: Sandbox, name: str) -> TaskFailedError:
    with pytest.raises(TaskFailedError) as info:
        sandbox.run(lower(getattr(flows, name)), {"x": 3}, timeout=60)
    return info.value


@pytest.mark.filterwarnings("ignore::stratoflow.accelerators.NoGpuWarning")  # locally a GPU task runs on CPU
@pytest.mark.parametrize("name", FAILING)
def test_a_failure_reads_the_same_locally_and_on_aws(sandbox: Sandbox, name: str) -> None:
    local, remote = _local_error(name), _remote_error(sandbox, name)
    assert type(remote) is type(local)
    assert (remote.node, remote.attempt, remote.error_type) == (local.node, local.attempt, local.error_type)
    head, _, said = str(remote).partition(" FAILED: ")
    assert head.startswith("execution ")
    assert said.startswith(str(local)), (said, str(local))


@pytest.mark.parametrize("name", ["lambda_fails", "fargate_fails", "batch_fails"])
def test_the_remote_error_carries_the_user_traceback(sandbox: Sandbox, name: str) -> None:
    remote = _remote_error(sandbox, name)
    assert remote.traceback_text is not None
    assert "parity_flows.py" in remote.traceback_text
    assert "BadRecordError: record 3 is malformed" in remote.traceback_text


def test_attempts_and_messages_are_the_local_ones_word_for_word(sandbox: Sandbox) -> None:
    remote = _remote_error(sandbox, "lambda_fails")
    assert str(remote).endswith(
        "task in node 'always_fails' failed (attempt 3): BadRecordError: record 3 is malformed"
    )
    timed_out = _remote_error(sandbox, "times_out")
    assert isinstance(timed_out, TaskTimeoutError)
    assert str(timed_out).endswith("node 'sleepy' timed out after 1s (attempt 2)")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("map_item_fails", "task in node 'map_item_fails[3]' failed (attempt 3): BadRecordError"),
        (
            "container_map_item_fails",
            "task in node 'map_container_item_fails[3]' failed (attempt 2): BadRecordError",
        ),
        (
            "dag_map_item_fails",
            "task in node 'maps_inside__map_item_fails[3]' failed (attempt 3): BadRecordError",
        ),
        (
            "dag_container_map_item_fails",
            "task in node 'container_maps_inside__map_container_item_fails[3]' failed (attempt 2): BadRecordError",
        ),
    ],
)
def test_a_map_item_reports_its_last_attempt(sandbox: Sandbox, name: str, said: str) -> None:
    # The item's retries run in the runner (Lambda) or the batch's container: its own count.
    remote = _remote_error(sandbox, name)
    assert said in str(remote)
    assert said in str(_local_error(name))


def test_a_dynamic_graph_node_reports_its_last_attempt(sandbox: Sandbox) -> None:
    remote = _remote_error(sandbox, "dag_node_fails")
    assert (remote.node, remote.attempt) == ("fails_inside__always_fails", 3)
    assert str(remote).endswith(
        "task in node 'fails_inside__always_fails' failed (attempt 3): BadRecordError: record 3 is malformed"
    )


class _NoSuchKey(Exception):
    pass


class _FakeS3:
    """Just enough S3 for the client's container-error lookup."""

    class exceptions:
        NoSuchKey = _NoSuchKey

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if Key not in self.objects:
            raise _NoSuchKey(Key)

        class _Body:
            def read(_self) -> bytes:
                return self.objects[Key]

        return {"Body": _Body()}


def _ecs_cause(attempt: str) -> str:
    environment = [
        {"Name": protocol.ENV_RUN, "Value": "r1"},
        {"Name": protocol.ENV_NODE, "Value": "train"},
        {"Name": protocol.ENV_ATTEMPT, "Value": attempt},
    ]
    return json.dumps(
        {
            "Containers": [{"ExitCode": 137}],
            "LaunchType": "FARGATE",
            "StopCode": "EssentialContainerExited",
            "StoppedReason": "OutOfMemoryError: Container killed due to memory usage",
            "Overrides": {"ContainerOverrides": [{"Name": "task", "Environment": environment}]},
        }
    )


def test_a_container_that_died_unrecorded_never_reports_an_earlier_attempt_s_error() -> None:
    record = protocol.FailureCause(node="train", error="ValueError", message="attempt 1's error", attempt=1)
    s3 = _FakeS3({protocol.container_error_key("fargate_fails", "r1", "train"): record.to_json().encode()})
    run = FailedExecution(
        run_id="r1",
        arn="arn",
        spec=lower(flows.fargate_fails),
        s3=s3,
        sfn=None,
        bucket="b",  # type: ignore[arg-type]
    )
    first = failure(run, "FAILED", protocol.STATES_TASK_FAILED, _ecs_cause("1"))
    assert isinstance(first, TaskFailedError)
    assert (first.error_type, first.attempt) == ("ValueError", 1)
    assert "attempt 1's error" in str(first)
    second = failure(run, "FAILED", protocol.STATES_TASK_FAILED, _ecs_cause("2"))
    assert isinstance(second, TaskFailedError)
    assert (second.error_type, second.attempt) == (protocol.STATES_TASK_FAILED, 2)
    assert str(second) == (
        "execution r1 FAILED: container on FARGATE exited with code 137 "
        "(EssentialContainerExited: OutOfMemoryError: Container killed due to memory usage)"
    )
