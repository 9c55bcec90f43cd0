"""``current_context()`` on emulated AWS: the same results as locally, from the Lambda runner and the
Fargate container entrypoint; checkpoints in the bucket under the run, read by the next attempt,
including the on-demand attempt after a Fargate Spot reclaim."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.flyte_compat.flows import context_flows
from tests.flyte_compat.flows.advanced_composition import checkpoint

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _local(wf: Any, home: Path, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    options = RunOptions(home=home, progress=False, retry_base_seconds=0.01)
    return run_local(lower(wf), inputs or {}, options).outputs


def _checkpoint_attempts(sandbox: Sandbox, execution: Any, node: str) -> list[int]:
    prefix = protocol.checkpoints_prefix(execution.spec.name, execution.run_id, node)
    listed = sandbox.aws.client("s3").list_objects_v2(Bucket=sandbox.bucket, Prefix=prefix)
    return sorted(protocol.checkpoint_attempt(item["Key"]) or 0 for item in listed.get("Contents", ()))


def test_execution_id_and_working_directory_on_lambda(
    sandbox: Sandbox, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    local = _local(context_flows.context_wf, tmp_path)
    execution = sandbox.run(lower(context_flows.context_wf), {})
    remote = execution.outputs()
    # The execution's name is the run id (Flyte's execution_id.name); the rest is what a local run gives.
    assert remote["o2"] == execution.run_id
    assert [remote[k] for k in ("o0", "o1", "o3")] == [local[k] for k in ("o0", "o1", "o3")]
    assert not Path(remote["o4"]).exists()
    assert f"[{execution.run_id} write_scratch attempt 1] wrote " in capfd.readouterr().err


def test_a_dynamics_tasks_belong_to_its_execution_on_aws(sandbox: Sandbox) -> None:
    execution = sandbox.run(lower(context_flows.dynamic_context_wf), {"n": 2})
    assert [item.split("/")[0] for item in execution.outputs()["o0"]] == [execution.run_id] * 3


def test_checkpoint_resume_across_attempts_gives_the_local_result(sandbox: Sandbox, tmp_path: Path) -> None:
    assert _local(context_flows.resume_wf, tmp_path) == {"o0": 16, "o1": 2}
    execution = sandbox.run(lower(context_flows.resume_wf), {})
    assert execution.outputs() == {"o0": 16, "o1": 2}
    assert _checkpoint_attempts(sandbox, execution, "count_on") == [1]


def test_flytesnacks_checkpoint_example_on_aws(sandbox: Sandbox, tmp_path: Path) -> None:
    inputs = {"n_iterations": 10}
    execution = sandbox.run(lower(checkpoint.checkpointing_example), inputs)
    assert execution.outputs() == _local(checkpoint.checkpointing_example, tmp_path, inputs) == {"o0": 9}
    assert _checkpoint_attempts(sandbox, execution, "use_checkpoint") == [1, 2, 3, 4]


def test_a_spot_reclaimed_fargate_attempt_resumes_from_its_checkpoint(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # Locally nothing reclaims it: one attempt from step 0. On Fargate Spot the first attempt is
    # reclaimed after saving step 3 of 6; the on-demand attempt (2) starts from step 3.
    assert _local(context_flows.spot_wf, tmp_path) == {"o0": 0, "o1": 1}
    context_flows.RECLAIM.add("resumable")
    try:
        execution = sandbox.run(lower(context_flows.spot_wf), {})
    finally:
        armed = set(context_flows.RECLAIM)
        context_flows.RECLAIM.clear()
    assert not armed, "the Spot attempt was never reclaimed"
    assert execution.outputs() == {"o0": 3, "o1": 2}
    assert _checkpoint_attempts(sandbox, execution, "resumable") == [1, 2]


def test_a_non_recoverable_exception_is_retried_on_aws_as_locally(sandbox: Sandbox, tmp_path: Path) -> None:
    local_attempts, aws_attempts = tmp_path / "local", tmp_path / "aws"
    spec = lower(context_flows.stubborn_wf)
    with pytest.raises(TaskFailedError):
        options = RunOptions(home=tmp_path, progress=False, retry_base_seconds=0.01)
        run_local(spec, {"attempts_file": str(local_attempts)}, options)
    with pytest.raises(TaskFailedError) as remote:
        sandbox.run(spec, {"attempts_file": str(aws_attempts)})
    assert remote.value.error_type == "ValueError"
    assert local_attempts.read_text() == aws_attempts.read_text() == "3"
