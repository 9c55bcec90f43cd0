"""The real-AWS smoke suite (``make test-aws``): deploy a throw-away stage of the stack into the account the
caller's credentials name, run the examples there, compare with local runs, destroy it whatever happened.

Opt-in twice: the ``aws`` marker (``pytest -m aws``) and ``STRATOFLOW_AWS_TESTS=1`` with credentials
boto3 can find. Without them every test here is collected and skipped, so the normal suite (and CI)
never touches an account. It has never run in this repository's CI (no account there): README says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client import Client, Execution
from stratoflow.define import load_launch_plan, load_workflow
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import Recovery

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
RECOVER_FLOWS = REPO / "tests" / "ops" / "recover_flows.py"
WORKFLOWS = [
    f"{EXAMPLES / 'etl.py'}:sales_report",  # Lambda tasks, an S3 trigger
    f"{EXAMPLES / 'training.py'}:training",  # a map, a Fargate Spot task
    f"{EXAMPLES / 'scheduled.py'}:nightly_report",  # a launch plan
    f"{RECOVER_FLOWS}:pipeline",  # fails until fixed: recovered
]
TIMEOUT = 1800.0  # a cold Fargate Spot start and image pull included


def _credentials_problem() -> str | None:
    if os.environ.get("STRATOFLOW_AWS_TESTS") != "1":
        return "real-AWS smoke tests are opt-in: make test-aws (STRATOFLOW_AWS_TESTS=1)"
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError:
        return "boto3 is not installed"
    if boto3.Session().get_credentials() is None:
        return "no AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, or an SSO login)"
    if shutil.which("cdk") is None and shutil.which("npx") is None:
        return "the AWS CDK CLI is not installed (npm install -g aws-cdk)"
    return None


pytestmark = [
    pytest.mark.aws,
    pytest.mark.timeout(int(TIMEOUT * 2)),
    pytest.mark.skipif(_credentials_problem() is not None, reason=str(_credentials_problem())),
]


def _cdk(*args: str, app_dir: Path) -> None:
    command = ["cdk"] if shutil.which("cdk") else ["npx", "--yes", "aws-cdk@2"]
    subprocess.run([*command, *args], cwd=app_dir, check=True)


def _app_dir(tmp: Path, stage: str) -> Path:
    """A cdk.json naming the smoke workflows, the repo's app, and this run's stage."""
    base = json.loads((REPO / "cdk.json").read_text())
    context = {**base["context"], "stratoflow:workflows": WORKFLOWS, "stratoflow:stage": stage}
    app = f"{sys.executable} {REPO / 'infra' / 'app.py'}"
    (tmp / "cdk.json").write_text(
        json.dumps({"app": app, "context": context, "output": str(tmp / "cdk.out")})
    )
    return tmp


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A throw-away stage (``Stratoflow-smoke<hex>``) deployed for this module and destroyed after it."""
    stage = f"smoke{uuid.uuid4().hex[:8]}"
    app_dir = _app_dir(tmp_path_factory.mktemp("aws-smoke"), stage)
    try:
        _cdk("deploy", "--require-approval", "never", "--all", app_dir=app_dir)
        yield Client.from_stack("Stratoflow", stage=stage)
    finally:
        # Whatever happened, deployed or half-deployed: the bucket and table are DESTROY-on-delete.
        _cdk("destroy", "--force", "--all", app_dir=app_dir)


def _local(spec: Any, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    outputs: dict[str, Any] = run_local(spec, inputs, RunOptions(home=home, progress=False)).outputs
    return outputs


def test_lambda_tasks_match_the_local_run(client: Client, tmp_path: Path) -> None:
    spec = lower(load_workflow(str(EXAMPLES / "etl.py"), "sales_report"))
    inputs = {"data": str(EXAMPLES / "data" / "sales.csv")}
    remote = client.submit(spec, inputs).wait(timeout=TIMEOUT).outputs()
    assert remote["o0"] == _local(spec, inputs, tmp_path)["o0"]  # the summary (o1 is a file)


def test_a_map_and_a_fargate_spot_task_match_the_local_run(client: Client, tmp_path: Path) -> None:
    spec = lower(load_workflow(str(EXAMPLES / "training.py"), "training"))
    inputs = {"samples": 200, "parts": 4}
    assert client.submit(spec, inputs).wait(timeout=TIMEOUT).outputs() == _local(spec, inputs, tmp_path)


def test_an_upload_starts_the_triggered_workflow(client: Client, tmp_path: Path) -> None:
    spec = lower(load_workflow(str(EXAMPLES / "etl.py"), "sales_report"))
    arn = client.state_machines["sales_report"]
    before = {e["name"] for e in client.sfn.list_executions(stateMachineArn=arn)["executions"]}
    key = f"incoming/smoke-{uuid.uuid4().hex[:8]}.csv"
    client.s3.upload_file(str(EXAMPLES / "data" / "sales.csv"), client.bucket, key)
    deadline = time.monotonic() + 300
    started: list[dict[str, Any]] = []
    while not started and time.monotonic() < deadline:
        time.sleep(5)
        listed = client.sfn.list_executions(stateMachineArn=arn)["executions"]
        started = [dict(e) for e in listed if e["name"] not in before]
    assert started, f"no execution started within 300 s of uploading s3://{client.bucket}/{key}"
    execution = Execution(client, spec, started[0]["name"], started[0]["executionArn"]).wait(timeout=TIMEOUT)
    local = _local(spec, {"data": str(EXAMPLES / "data" / "sales.csv")}, tmp_path)
    assert execution.outputs()["o0"] == local["o0"]


def test_a_launch_plan_started_by_hand_matches_the_local_run(client: Client, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    plan = load_launch_plan(str(EXAMPLES / "scheduled.py"), "nightly_report")
    day = datetime(2026, 1, 2, tzinfo=UTC)
    remote = client.run(plan, top=1, day=day).wait(timeout=TIMEOUT).outputs()
    assert remote == _local(lower(plan.workflow), plan.merged_inputs({"top": 1, "day": day}), tmp_path)


def test_a_recovered_run_reuses_what_succeeded(client: Client, tmp_path: Path) -> None:
    # The flag folder is each Lambda container's own /tmp, so no fix reaches the recovered run: what
    # this checks on real S3 and Step Functions is that the recovery found the failed run's outputs of
    # extract and audit, reused them, and ran fragile again (its error is the recovered run's).
    spec = lower(load_workflow(str(RECOVER_FLOWS), "pipeline"))
    failed = client.submit(spec, {"folder": "/tmp"})
    with pytest.raises(TaskFailedError, match="not fixed yet"):
        failed.wait(timeout=TIMEOUT)
    recovered = client.recover(failed)
    with pytest.raises(TaskFailedError, match="not fixed yet") as again:
        recovered.wait(timeout=TIMEOUT)
    assert again.value.node == "fragile"
    body = client.s3.get_object(Bucket=client.bucket, Key=protocol.recovery_key(spec.name, recovered.run_id))[
        "Body"
    ]
    assert set(Recovery.from_json(body.read()).nodes) == {"extract", "audit"}
