"""AWS Batch nodes (GPU, Spot with on-demand fallback, oversize) compiled and run on emulated AWS;
outputs equal the local run's. The real container entrypoint runs in-process for each job."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import accelerators, routing
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import batch_flows
from tests.ops import secret_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _local(spec: Any, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    with warnings.catch_warnings():  # this machine has no GPU: the local run says so once
        warnings.simplefilter("ignore", accelerators.NoGpuWarning)
        return run_local(spec, inputs, RunOptions(home=home, progress=False)).outputs


def _queues(sandbox: Sandbox, arn: str) -> list[str]:
    """The job queue of every Batch job the execution submitted, in order."""
    queues = []
    for event in sandbox.aws.wait(arn, timeout=60).events:
        details = event.get("taskScheduledEventDetails") or {}
        if event["type"] == "TaskScheduled" and "submitJob" in details["resource"]:
            queues.append(json.loads(details["parameters"])["JobQueue"].rsplit("/", 1)[-1])
    return queues


def test_the_flows_route_to_batch() -> None:
    specs = [batch_flows.gpu_embed.spec, batch_flows.gpu_finetune.spec, batch_flows.big_join.spec]
    targets = [routing.route(s.requests, interruptible=s.interruptible).target for s in specs]
    assert targets == ["batch", "batch_spot", "batch"]


def test_gpu_task_matches_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(batch_flows.gpu_flow)
    inputs = {"texts": ["a", "bb", "cccc"]}
    local = _local(spec, inputs, tmp_path)
    before = batch_flows.CALLS["gpu_embed"]
    execution = sandbox.run(spec, inputs)
    assert execution.outputs() == local == {"o0": 7}
    assert batch_flows.CALLS["gpu_embed"] == before + 1
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-ondemand"]


def test_oversize_task_matches_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(batch_flows.oversize_flow)
    execution = sandbox.run(spec, {"x": 41})
    assert execution.outputs() == _local(spec, {"x": 41}, tmp_path) == {"o0": 42}
    assert _queues(sandbox, execution.arn) == ["stratoflow-cpu-ondemand"]


def test_spot_reclaim_in_the_first_attempt_finishes_on_demand(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(batch_flows.gpu_spot_flow)
    local = _local(spec, {"x": 6}, tmp_path)
    sandbox.spot_interruptions["gpu_finetune"] = 1
    before = batch_flows.CALLS["gpu_finetune"]
    execution = sandbox.run(spec, {"x": 6})
    assert execution.outputs() == local == {"o0": 42}
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-spot", "stratoflow-gpu-ondemand"]
    assert sandbox.spot_interruptions["gpu_finetune"] == 0
    # The reclaimed attempt never reached the user function (the host went first).
    assert batch_flows.CALLS["gpu_finetune"] == before + 1


def test_spot_reclaims_retry_on_spot_while_attempts_remain(sandbox: Sandbox) -> None:
    sandbox.spot_interruptions["gpu_finetune_retried"] = 3  # retries=2: all three Spot attempts
    execution = sandbox.run(lower(batch_flows.gpu_spot_retried_flow), {"x": 2})
    assert execution.outputs() == {"o0": 22}
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-spot"] * 3 + ["stratoflow-gpu-ondemand"]


def test_a_reclaim_then_success_on_spot_stays_on_spot(sandbox: Sandbox) -> None:
    sandbox.spot_interruptions["gpu_finetune_retried"] = 1
    execution = sandbox.run(lower(batch_flows.gpu_spot_retried_flow), {"x": 3})
    assert execution.outputs() == {"o0": 33}
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-spot"] * 2


def test_app_failure_on_spot_is_retried_on_spot_and_never_moved_to_on_demand(sandbox: Sandbox) -> None:
    spec = lower(batch_flows.gpu_failing_flow)
    sandbox.deploy(spec)
    assert sandbox.client is not None
    before = batch_flows.CALLS["gpu_diverges"]
    execution = sandbox.client.submit(spec, {"x": 1})
    with pytest.raises(TaskFailedError) as info:
        execution.wait(timeout=60)
    assert info.value.node == "gpu_diverges"
    assert "AWS Batch job gpu_diverges on queue stratoflow-gpu-spot failed" in str(info.value)
    assert "Essential container in task exited (exit code 1)" in str(info.value)
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-spot"] * 2
    assert batch_flows.CALLS["gpu_diverges"] == before + 2


PASSWORD = "pw-batch-3f1a-VALUE"  # noqa: S105 - a test value


def _job_definition_secrets(sandbox: Sandbox, arn: str) -> list[str]:
    """The ``secrets`` names of the job definition of the one job execution ``arn`` submitted."""
    batch = sandbox.aws.client("batch")
    (submitted,) = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["JobDefinition"]
        for e in sandbox.aws.wait(arn, timeout=60).events
        if e["type"] == "TaskScheduled" and "submitJob" in e["taskScheduledEventDetails"]["resource"]
    ]
    (definition,) = batch.describe_job_definitions(jobDefinitions=[submitted])["jobDefinitions"]
    return [s["name"] for s in definition["containerProperties"].get("secrets", [])]


def test_a_gpu_task_gets_its_secret_from_its_job_definition(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.aws.client("secretsmanager").create_secret(Name="stratoflow/db/password", SecretString=PASSWORD)
    spec = lower(secret_flows.signed_on_gpu)
    execution = sandbox.run(spec, {})
    # The local run reads the same value from its home's secrets folder.
    (tmp_path / "secrets" / "db").mkdir(parents=True)
    (tmp_path / "secrets" / "db" / "password").write_text(PASSWORD + "\n")
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    assert execution.outputs() == _local(spec, {}, tmp_path) == {"o0": len(PASSWORD)}
    # Batch put it in the container's environment from the job definition (the GPU task's own).
    assert _job_definition_secrets(sandbox, execution.arn) == ["STRATOFLOW_SECRET_DB_PASSWORD"]
    assert _queues(sandbox, execution.arn) == ["stratoflow-gpu-ondemand"]


def test_a_gpu_task_whose_secret_is_missing_never_starts(sandbox: Sandbox) -> None:
    with pytest.raises(TaskFailedError) as caught:
        sandbox.run(lower(secret_flows.absent_on_gpu), {})
    assert "ResourceInitializationError: unable to pull secrets" in str(caught.value)
    assert "can't find the specified secret stratoflow/absent/token" in str(caught.value)
