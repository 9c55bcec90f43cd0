"""Secrets on emulated AWS, deployed from the synthesized stack: a Lambda task reads its secret from
moto's Secrets Manager at run time, a Fargate task gets its own from its task definition's ``secrets``;
the value is in no log line, output, stored object, cache item, execution event or error; a missing
secret fails the run with the same one-line error as locally."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import ConfigError, ExecutionError, TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox
from stratoflow.testing._stack import TEST_CONTEXT
from stratoflow_functions import task_runner
from tests.ops import secret_flows

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
FLOWS = REPO / "tests" / "ops" / "secret_flows.py"
CONTEXT = {
    **TEST_CONTEXT,
    "stratoflow:workflows": [f"{FLOWS}:signed", f"{FLOWS}:signed_on_fargate", f"{FLOWS}:leaky"],
}
TOKEN = "tok-emulated-9c2e-VALUE"  # noqa: S105 - a test value
PASSWORD = "pw-emulated-41d7-VALUE"  # noqa: S105 - a test value


@pytest.fixture(scope="module")
def stack() -> Iterator[StackSandbox]:
    with StackSandbox(project_dir=REPO, context=CONTEXT) as deployed:
        yield deployed


def _everything_stored(stack: StackSandbox, run_ids: list[str]) -> str:
    """Every object of the bucket, every cache item, and every event of the runs' executions, as text."""
    s3 = stack.aws.client("s3")
    texts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.client.bucket):
        for item in page.get("Contents", []):
            texts.append(
                s3.get_object(Bucket=stack.client.bucket, Key=item["Key"])["Body"].read().decode("latin-1")
            )
    dynamodb = stack.aws.client("dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        texts.append(json.dumps(dynamodb.scan(TableName=table)["Items"]))
    sfn = stack.aws.client("stepfunctions")
    for arn in stack.client.state_machines.values():
        for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
            if execution["name"] in run_ids:
                events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
                texts.append(json.dumps(events, default=str))
    return "\n".join(texts)


def test_lambda_and_fargate_tasks_read_their_secrets_and_nothing_keeps_them(
    stack: StackSandbox, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = stack.aws.client("secretsmanager")
    secrets.create_secret(Name="stratoflow/api/token", SecretString=TOKEN)
    secrets.create_secret(Name="stratoflow/db/password", SecretString=PASSWORD)
    spec = lower(secret_flows.signed_on_fargate)
    execution = stack.client.submit(spec, {}).wait(timeout=120)
    outputs = execution.outputs()
    assert outputs == {
        "o0": hashlib.sha256(f"{TOKEN}:hello".encode()).hexdigest(),
        "o1": len(PASSWORD),
        "o2": 5,
    }
    again = stack.client.submit(lower(secret_flows.signed), {}).wait(timeout=60)
    assert again.outputs() == {"o0": outputs["o0"]}
    logs = capfd.readouterr()
    stored = _everything_stored(stack, [execution.run_id, again.run_id])
    assert outputs["o0"] in stored  # the outputs are among what was searched
    for value in (TOKEN, PASSWORD):
        assert value not in stored
        assert value not in logs.err
    assert "signing with token ****" in logs.err
    # Locally, the same secrets from the environment give the same outputs.
    monkeypatch.setenv("STRATOFLOW_SECRET_API_TOKEN", TOKEN)
    monkeypatch.setenv("STRATOFLOW_SECRET_DB_PASSWORD", PASSWORD)
    local = run_local(spec, {}, RunOptions(home=tmp_path, progress=False))
    assert local.outputs == outputs
    assert stack.aws.runtime_errors() == []


def test_an_error_quoting_the_secret_is_masked(
    stack: StackSandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    secrets = stack.aws.client("secretsmanager")
    if not secrets.list_secrets(Filters=[{"Key": "name", "Values": ["stratoflow/api/token"]}])["SecretList"]:
        secrets.create_secret(Name="stratoflow/api/token", SecretString=TOKEN)
    execution = stack.client.submit(lower(secret_flows.leaky), {})
    with pytest.raises(TaskFailedError) as failed:
        execution.wait(timeout=60)
    assert "refusing hello with token ****" in str(failed.value)
    assert TOKEN not in str(failed.value)
    assert TOKEN not in _everything_stored(stack, [execution.run_id])
    assert TOKEN not in capfd.readouterr().err


def test_a_missing_secret_is_the_local_one_line_error(stack: StackSandbox, tmp_path: Path) -> None:
    secrets = stack.aws.client("secretsmanager")
    for name in ("stratoflow/api/token",):
        if secrets.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]:
            secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    # A cold container: a warm one still has the value cached (for DEFAULT_SECRET_TTL_SECONDS).
    task_runner._clients.cache_clear()
    spec = lower(secret_flows.signed)
    execution = stack.client.submit(spec, {"message": "missing"})
    with pytest.raises(ExecutionError) as remote:
        execution.wait(timeout=60)
    with pytest.raises(ConfigError) as local:
        run_local(spec, {"message": "missing"}, RunOptions(home=tmp_path, progress=False))
    assert str(local.value) in str(remote.value)
