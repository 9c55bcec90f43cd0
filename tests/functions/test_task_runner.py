"""The task-runner Lambda handler, called directly with a fake context against emulated AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from stratoflow.backends import asl
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import FakeLambdaContext
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import flows

pytestmark = pytest.mark.emulated


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="stratoflow-task-runner")


def _prepare(sandbox: Sandbox, workflow: object, run: str, inputs: dict[str, object]) -> asl.CompiledWorkflow:
    spec = lower(workflow)  # type: ignore[arg-type]
    compiled = sandbox.deploy(spec)
    assert sandbox.client is not None
    from stratoflow.aws import S3BlobStore, S3OutputStore
    from stratoflow.runtime import encode_inputs, validate_inputs

    s3 = sandbox.aws.client("s3")
    literals = encode_inputs(spec, validate_inputs(spec, inputs), S3BlobStore(s3, sandbox.bucket))
    S3OutputStore(s3, sandbox.bucket, spec.name, run).write_inputs(literals)
    return compiled


def test_handler_runs_a_node_and_then_hits_the_cache(sandbox: Sandbox) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.diamond, "run-a", {"x": 31})
    event = {"run": "run-a", "spec": compiled.spec_key, "node": "double"}
    assert task_runner.handler(event, _context()) == {"node": "double", "hit": False}
    assert task_runner.handler(event, _context()) == {"node": "double", "hit": True}
    body = sandbox.aws.client("s3").get_object(
        Bucket=sandbox.bucket, Key=protocol.node_outputs_key("diamond", "run-a", "double")
    )["Body"]
    assert json.loads(body.read())["o0"]["v"] == 62


def test_handler_raises_the_users_exception_name_with_a_json_cause(sandbox: Sandbox) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.failing_flow, "run-b", {"x": 9})
    with pytest.raises(Exception) as info:
        task_runner.handler({"run": "run-b", "spec": compiled.spec_key, "node": "always_fails"}, _context())
    assert type(info.value).__name__ == "BrokenPipelineError"
    cause = json.loads(str(info.value))
    assert cause["node"] == "always_fails"
    assert cause["error"] == "BrokenPipelineError"
    assert "cannot handle 9" in cause["message"]


def test_handler_rejects_a_malformed_event(sandbox: Sandbox) -> None:
    from pydantic import ValidationError

    from stratoflow_functions import task_runner

    with pytest.raises(ValidationError):
        task_runner.handler({"spec": "x"}, _context())


def test_container_entrypoint_exit_codes(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from stratoflow_functions import container_entrypoint

    compiled = _prepare(sandbox, flows.failing_flow, "run-c", {"x": 1})
    env = {
        "STRATOFLOW_RUN": "run-c",
        "STRATOFLOW_SPEC": compiled.spec_key,
        "STRATOFLOW_NODE": "always_fails",
        "STRATOFLOW_BUCKET": sandbox.bucket,
        "STRATOFLOW_CACHE_TABLE": sandbox.table,
    }
    assert container_entrypoint.run(env) == 1
    assert container_entrypoint.run({k: v for k, v in env.items() if k != "STRATOFLOW_NODE"}) == 2


def test_the_container_entrypoint_turns_sigterm_into_system_exit_so_a_batch_stores_its_items() -> None:
    # ECS stops a task with SIGTERM (two minutes ahead for a Spot reclaim); as SystemExit it
    # unwinds through run_map_items, whose `finally` stores the items finished so far.
    import signal

    from stratoflow_functions import container_entrypoint

    with pytest.raises(SystemExit) as info:
        container_entrypoint._stop(signal.SIGTERM, None)
    assert info.value.code == 128 + signal.SIGTERM


def test_container_entrypoint_writes_temp_files_only_under_the_scratch_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container's root filesystem is read-only: TMPDIR (the scratch volume) is where temp files go."""
    import tempfile

    from stratoflow_functions import container_entrypoint

    seen: list[Path] = []

    def fake_run_node_event(event: object, env: object) -> object:
        seen.append(Path(tempfile.mkdtemp(prefix="input-")))
        seen.append(Path(tempfile.gettempdir()))
        raise TaskFailedError("stop here", node="n", error_type="Stop")

    monkeypatch.setattr(container_entrypoint, "run_node_event", fake_run_node_event)
    # The failed node records its error in S3 (for the client): a stand-in client keeps it here.
    records: list[dict[str, object]] = []
    stub = SimpleNamespace(put_object=lambda **kwargs: records.append(kwargs))
    monkeypatch.setattr(container_entrypoint, "boto3", SimpleNamespace(client=lambda name: stub))
    before = tempfile.tempdir
    env = {
        "STRATOFLOW_RUN": "r",
        "STRATOFLOW_SPEC": "specs/x/0123456789abcdef.json",
        "STRATOFLOW_NODE": "n",
        "STRATOFLOW_BUCKET": "b",
        "STRATOFLOW_CACHE_TABLE": "t",
    }
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # clients are made, never called
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert container_entrypoint.run({**env, "TMPDIR": str(scratch)}) == 1
    assert seen[0].parent == scratch and seen[1] == scratch
    assert tempfile.tempdir == before  # restored: the emulator runs the entrypoint in-process
    assert len(records) == 1  # the failure was recorded for the client

    seen.clear()
    assert container_entrypoint.run({**env, "TMPDIR": str(tmp_path / "not-mounted")}) == 2
    assert seen == []  # nothing ran
