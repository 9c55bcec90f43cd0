"""Canaries for the AWS Batch patch: moto 5.2.5's Docker-less Batch runs nothing, the patch runs the job.

Each ``test_raw_*`` asserts the *bad* behaviour of unpatched moto; when one fails, moto
changed, so check whether ``install_batch_inprocess`` is still needed (and still right).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stratoflow.testing import EmulatedAws, SpotInterruption, install_batch_inprocess

pytestmark = pytest.mark.emulated


def _batch_machine(aws: EmulatedAws) -> str:
    queue = aws.create_batch_queue("stratoflow-gpu-ondemand")
    job_definition = aws.create_job_definition(
        "runner", vcpus=4, memory_mib=16384, gpus=1, environment={"FROM_DEFINITION": "1"}
    )
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {
            "JobName": "train",
            "JobQueue": queue,
            "JobDefinition": job_definition,
            "ContainerOverrides": {"Environment": [{"Name": "RUN", "Value.$": "$$.Execution.Name"}]},
        },
        "End": True,
    }
    return aws.create_state_machine("batch", {"StartAt": "J", "States": {"J": task}})


def _recorder(calls: list[dict[str, str]], exit_code: int) -> Any:
    def entrypoint(env: dict[str, str], command: list[str]) -> int:
        calls.append(env)
        return exit_code

    return entrypoint


def test_raw_batch_without_docker_runs_nothing_and_succeeds(aws: EmulatedAws) -> None:
    install_batch_inprocess()()  # just this patch out: the integration needs normalisation
    calls: list[dict[str, str]] = []
    aws.register_batch_entrypoint("runner", _recorder(calls, 3))
    result = aws.start_and_wait(_batch_machine(aws), {})
    assert result.status == "SUCCEEDED"
    assert calls == []


def test_batch_inprocess_runs_the_entrypoint_with_the_job_environment(aws: EmulatedAws) -> None:
    calls: list[dict[str, str]] = []
    aws.register_batch_entrypoint("runner", _recorder(calls, 0))
    result = aws.start_and_wait(_batch_machine(aws), {}, name="run-1")
    assert result.status == "SUCCEEDED"
    assert result.output["Status"] == "SUCCEEDED"
    [env] = calls
    assert env["RUN"] == "run-1"
    assert env["FROM_DEFINITION"] == "1"
    assert env["MANAGED_BY_AWS"] == "STARTED_BY_STEP_FUNCTIONS"  # what AWS adds to .sync jobs
    assert env["AWS_BATCH_JOB_ID"] == result.output["JobId"]


def _cause(result: Any) -> dict[str, Any]:
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    cause: dict[str, Any] = json.loads(result.cause or "{}")
    return cause


def test_a_non_zero_exit_fails_the_job_like_aws(aws: EmulatedAws) -> None:
    aws.register_batch_entrypoint("runner", lambda env, command: 3)
    cause = _cause(aws.start_and_wait(_batch_machine(aws), {}))
    assert cause["Status"] == "FAILED"
    assert cause["StatusReason"] == "Essential container in task exited"
    assert cause["Attempts"][-1]["Container"]["ExitCode"] == 3
    assert cause["Attempts"][-1]["StatusReason"] == "Essential container in task exited"


def test_a_crash_is_exit_code_1(aws: EmulatedAws) -> None:
    def crash(env: dict[str, str], command: list[str]) -> int:
        raise RuntimeError("boom")

    aws.register_batch_entrypoint("runner", crash)
    cause = _cause(aws.start_and_wait(_batch_machine(aws), {}))
    assert cause["Attempts"][-1]["Container"]["ExitCode"] == 1


def test_a_spot_reclaim_is_a_host_termination(aws: EmulatedAws) -> None:
    def reclaimed(env: dict[str, str], command: list[str]) -> int:
        raise SpotInterruption

    aws.register_batch_entrypoint("runner", reclaimed)
    cause = _cause(aws.start_and_wait(_batch_machine(aws), {}))
    assert re.fullmatch(r"Host EC2 \(instance i-[0-9a-f]{17}\) terminated\.", cause["StatusReason"])
    assert "ExitCode" not in cause["Attempts"][-1]["Container"]
