"""S3 triggers: the starter's rules (names, matching), the real handler against the ``Sandbox``,
and an upload to the deployed stack's bucket that runs ``sales_report`` end to end."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import File, ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client import (
    Execution,
    S3ObjectEvent,
    TriggerSettings,
    TriggerTarget,
    execution_name,
    key_matches,
    targets_json,
)
from stratoflow.define import load_workflow
from stratoflow.errors import ConfigError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import EmulatedAws, FakeLambdaContext, StackSandbox
from stratoflow.testing._sandbox import Sandbox

pytestmark = pytest.mark.emulated

REPO = Path(__file__).resolve().parents[2]
SALES = REPO / "examples" / "data" / "sales.csv"
VALID_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


def object_created(
    bucket: str, key: str, *, version_id: str | None = None, sequencer: str = "0062E99A88DC407460"
) -> dict[str, Any]:
    """An EventBridge event as S3 sends it (docs: AmazonS3/latest/userguide/ev-events.html)."""
    obj: dict[str, Any] = {"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184"}
    if version_id is not None:
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2021-11-12T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }


# --- pure rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "prefix", "suffix", "expected"),
    [
        ("incoming/x.csv", "incoming/", ".csv", True),
        ("incoming/.csv", "incoming/", ".csv", True),
        ("incoming/x.txt", "incoming/", ".csv", False),
        ("other/x.csv", "incoming/", ".csv", False),
        ("ab", "a", "ab", False),  # like EventBridge's 'a*ab': prefix and suffix never overlap
        ("anything", "", "", True),
        ("runs/r1/inputs.json", "", "", False),  # stratoflow's own objects never trigger
        ("blobs/ab/abcdef", "", "", False),
        ("specs/wf/1.json", "", ".json", False),
        ("dynamic-specs/wf/0123456789abcdef.json", "", ".json", False),  # sub-specs the runner writes
    ],
)
def test_key_matches_like_the_rule_pattern(key: str, prefix: str, suffix: str, expected: bool) -> None:
    assert key_matches(key, prefix, suffix) is expected


def test_execution_name_is_deterministic_short_and_valid() -> None:
    long = "a_workflow_name_that_is_much_longer_than_forty_characters_in_all"
    name = execution_name(long, "bucket", "incoming/x.csv", "version:v1", "data")
    assert name == execution_name(long, "bucket", "incoming/x.csv", "version:v1", "data")
    assert VALID_NAME.fullmatch(name) and len(name) == 73
    assert name.startswith(long[:40] + "-")
    others = {
        execution_name(long, "bucket", "incoming/x.csv", "version:v2", "data"),
        execution_name(long, "bucket", "incoming/y.csv", "version:v1", "data"),
        execution_name(long, "other", "incoming/x.csv", "version:v1", "data"),
        execution_name(long, "bucket", "incoming/x.csv", "version:v1", "file"),
    }
    assert name not in others and len(others) == 4
    assert VALID_NAME.fullmatch(execution_name("my report", "b", "k", "sequencer:1", "d"))


def test_event_identity_is_the_version_else_the_sequencer() -> None:
    versioned = S3ObjectEvent.model_validate(object_created("b", "k", version_id="v1"))
    assert (versioned.bucket, versioned.key, versioned.identity) == ("b", "k", "version:v1")
    for version in (None, "null"):
        unversioned = S3ObjectEvent.model_validate(object_created("b", "k", version_id=version))
        assert unversioned.identity == "sequencer:0062E99A88DC407460"


def test_settings_come_from_the_environment() -> None:
    target = TriggerTarget(
        workflow="wf", state_machine_arn="arn:sm", spec_key="specs/wf/1.json", prefix="in/", input="data"
    )
    settings = TriggerSettings.from_env(
        {"STRATOFLOW_BUCKET": "b", "STRATOFLOW_TRIGGERS": targets_json([target])}
    )
    assert settings == TriggerSettings(bucket="b", targets=(target,))
    with pytest.raises(ConfigError, match="STRATOFLOW_TRIGGERS"):
        TriggerSettings.from_env({"STRATOFLOW_BUCKET": "b"})
    with pytest.raises(ConfigError, match="not a JSON list of triggers"):
        TriggerSettings.from_env({"STRATOFLOW_BUCKET": "b", "STRATOFLOW_TRIGGERS": '[{"workflow": 1}]'})


# --- the handler against the Sandbox -------------------------------------------------------------


def sales_spec() -> ir.WorkflowSpec:
    return lower(load_workflow(str(REPO / "examples" / "etl.py"), "sales_report"))


class Starter:
    """The sandbox, a versioned bucket, sales_report deployed and triggered on incoming/*.csv."""

    def __init__(self, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        assert sandbox.client is not None
        self.sandbox = sandbox
        self.s3 = sandbox.aws.client("s3")
        self.sfn = sandbox.aws.client("stepfunctions")
        self.s3.put_bucket_versioning(Bucket=sandbox.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.spec = sales_spec()
        compiled = sandbox.deploy(self.spec)
        self.arn = sandbox.client.state_machines["sales_report"]
        target = TriggerTarget(
            workflow="sales_report",
            state_machine_arn=self.arn,
            spec_key=compiled.spec_key,
            prefix="incoming/",
            suffix=".csv",
            input="data",
        )
        monkeypatch.setenv("STRATOFLOW_TRIGGERS", targets_json([target]))

    def put(self, key: str, body: bytes) -> dict[str, Any]:
        """Upload ``body`` and return the event S3 would send for it."""
        version = self.s3.put_object(Bucket=self.sandbox.bucket, Key=key, Body=body)["VersionId"]
        return object_created(self.sandbox.bucket, key, version_id=version)

    def deliver(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        from stratoflow_functions import trigger_starter

        result = trigger_starter.handler(event, FakeLambdaContext(function_name="stratoflow-trigger-starter"))
        runs: list[dict[str, Any]] = result["runs"]
        return runs

    def executions(self) -> list[dict[str, Any]]:
        return list(self.sfn.list_executions(stateMachineArn=self.arn)["executions"])

    def wait(self, run: dict[str, Any]) -> Execution:
        assert self.sandbox.client is not None
        return Execution(self.sandbox.client, self.spec, run["run_id"], run["execution_arn"]).wait(timeout=60)


@pytest.fixture
def starter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Starter]:
    with Sandbox() as sandbox:
        yield Starter(sandbox, monkeypatch)


def test_object_created_starts_one_run_equal_to_a_local_run(starter: Starter, tmp_path: Path) -> None:
    runs = starter.deliver(starter.put("incoming/sales.csv", SALES.read_bytes()))
    assert [(r["workflow"], r["status"], r["inputs_existed"]) for r in runs] == [
        ("sales_report", "started", False)
    ]
    outputs = starter.wait(runs[0]).outputs()
    local = run_local(starter.spec, {"data": str(SALES)}, RunOptions(home=tmp_path, progress=False)).outputs
    assert outputs["o0"] == local["o0"]
    assert outputs["o1"].content_hash() == local["o1"].content_hash()
    assert len(starter.executions()) == 1


def test_a_duplicated_event_starts_nothing_and_leaves_the_inputs_alone(starter: Starter) -> None:
    event = starter.put("incoming/sales.csv", SALES.read_bytes())
    first = starter.deliver(event)
    starter.wait(first[0])
    inputs_key = protocol.inputs_key(first[0]["workflow"], first[0]["run_id"])
    written = starter.s3.get_object(Bucket=starter.sandbox.bucket, Key=inputs_key)["Body"].read()
    newer = b"date,region,product,units,unit_price\n2026-03-03,west,x,1,2.0\n"
    starter.put("incoming/sales.csv", newer)
    again = starter.deliver(event)  # the first version's event, delivered once more
    assert [(r["run_id"], r["status"], r["inputs_existed"]) for r in again] == [
        (first[0]["run_id"], "duplicate", True)
    ]
    assert starter.s3.get_object(Bucket=starter.sandbox.bucket, Key=inputs_key)["Body"].read() == written
    assert len(starter.executions()) == 1


def test_a_new_version_of_the_key_starts_a_second_run(starter: Starter) -> None:
    first = starter.deliver(starter.put("incoming/sales.csv", SALES.read_bytes()))
    extra_row = SALES.read_bytes().rstrip(b"\n") + b"\n2026-03-03,west,extra,1,1.5\n"
    second = starter.deliver(starter.put("incoming/sales.csv", extra_row))
    assert first[0]["run_id"] != second[0]["run_id"]
    assert second[0]["status"] == "started"
    assert (
        starter.wait(second[0]).outputs()["o0"].rows_in == starter.wait(first[0]).outputs()["o0"].rows_in + 1
    )
    assert len(starter.executions()) == 2


def test_a_run_reads_the_version_its_event_names(starter: Starter) -> None:
    """Overwritten before the run starts: the run still reads (and hashes) the uploaded version."""
    event = starter.put("incoming/sales.csv", SALES.read_bytes())
    starter.put("incoming/sales.csv", b"date,region,product,units,unit_price\n")
    runs = starter.deliver(event)
    rows = len(SALES.read_text().splitlines()) - 1
    assert starter.wait(runs[0]).outputs()["o0"].rows_in == rows


@pytest.mark.parametrize("key", ["incoming/sales.txt", "elsewhere/sales.csv", "runs/incoming/sales.csv"])
def test_a_key_outside_the_trigger_starts_nothing(starter: Starter, key: str) -> None:
    assert starter.deliver(starter.put(key, SALES.read_bytes())) == []
    assert starter.executions() == []


def test_an_event_from_another_bucket_starts_nothing(starter: Starter) -> None:
    event = starter.put("incoming/sales.csv", SALES.read_bytes())
    event["detail"]["bucket"]["name"] = "someone-elses-bucket"
    assert starter.deliver(event) == []


def test_a_deleted_object_starts_nothing(starter: Starter) -> None:
    event = object_created(starter.sandbox.bucket, "incoming/never-uploaded.csv", version_id="v1")
    assert [r["status"] for r in starter.deliver(event)] == ["missing"]
    assert starter.executions() == []


def test_an_url_encoded_key_is_decoded_when_only_the_decoded_key_exists(starter: Starter) -> None:
    uploaded = starter.put("incoming/q1 sales.csv", SALES.read_bytes())
    event = object_created(
        starter.sandbox.bucket, "incoming/q1+sales.csv", version_id=uploaded["detail"]["object"]["version-id"]
    )
    runs = starter.deliver(event)
    assert [r["status"] for r in runs] == ["started"]
    inputs = json.loads(
        starter.s3.get_object(
            Bucket=starter.sandbox.bucket, Key=protocol.inputs_key(runs[0]["workflow"], runs[0]["run_id"])
        )["Body"].read()
    )
    # The event's version is copied under the run, then adopted into the content-addressed blobs.
    assert inputs["data"]["v"]["name"] == "q1 sales.csv"
    assert inputs["data"]["v"]["uri"].startswith(f"s3://{starter.sandbox.bucket}/blobs/")
    assert starter.wait(runs[0]).outputs()["o0"].rows_in > 0


def test_an_url_encoded_key_that_decodes_to_a_reserved_prefix_starts_nothing(
    starter: Starter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``runs%2F...`` passes the reserved-prefix check as received; decoded it is a run's own object."""
    target = TriggerTarget(
        workflow="sales_report",
        state_machine_arn=starter.arn,
        spec_key=starter.sandbox.deploy(starter.spec).spec_key,
        suffix=".csv",
        input="data",
    )
    monkeypatch.setenv("STRATOFLOW_TRIGGERS", targets_json([target]))
    own = starter.put("runs/some-run/pinned/sales.csv", SALES.read_bytes())
    for key in ("runs%2Fsome-run%2Fpinned%2Fsales.csv", "runs%2fsome-run%2fpinned%2fsales.csv"):
        event = object_created(starter.sandbox.bucket, key, version_id=own["detail"]["object"]["version-id"])
        assert key_matches(key, target.prefix, target.suffix)  # what the fallback used to rely on
        assert starter.deliver(event) == []
    # The same trigger does start a run for a user's encoded key, so the refusal is the prefix.
    uploaded = starter.put("q1 sales.csv", SALES.read_bytes())
    event = object_created(
        starter.sandbox.bucket, "q1+sales.csv", version_id=uploaded["detail"]["object"]["version-id"]
    )
    runs = starter.deliver(event)
    assert [r["status"] for r in runs] == ["started"]
    assert len(starter.executions()) == 1
    assert starter.wait(runs[0]).outputs()["o0"].rows_in > 0


def test_the_file_input_is_the_uploaded_object(starter: Starter) -> None:
    runs = starter.deliver(starter.put("incoming/sales.csv", SALES.read_bytes()))
    starter.wait(runs[0])
    assert isinstance(runs[0]["execution_arn"], str)
    assert File(str(SALES)).content_hash()[0] in json.dumps(
        json.loads(
            starter.s3.get_object(
                Bucket=starter.sandbox.bucket, Key=protocol.inputs_key(runs[0]["workflow"], runs[0]["run_id"])
            )["Body"].read()
        )
    )


def test_the_example_declares_its_trigger() -> None:
    assert sales_spec().triggers == (ir.TriggerSpec(prefix="incoming/", suffix=".csv", input="data"),)


# --- install_events_to_lambda: moto's EventBridge cannot invoke a Lambda target --------------------


def _rule_to_function(aws: EmulatedAws, handler: Any = None) -> None:
    events = aws.client("events")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["canary"]}))
    if handler is None:
        arn = aws.client("lambda").create_function(
            FunctionName="target",
            Runtime="python3.12",
            Role=aws.role_arn,
            Handler="index.handler",
            Code={"ZipFile": _zip()},
        )["FunctionArn"]
    else:
        arn = aws.register_lambda("target", handler)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": arn}])


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _put_event(aws: EmulatedAws) -> None:
    aws.client("events").put_events(Entries=[{"Source": "canary", "DetailType": "t", "Detail": '{"k": 1}'}])


def test_raw_eventbridge_cannot_deliver_to_a_lambda_target(raw_aws: EmulatedAws) -> None:
    _rule_to_function(raw_aws)
    with pytest.raises(NotImplementedError, match="Expr not defined"):
        _put_event(raw_aws)


def test_patched_eventbridge_invokes_the_lambda_target_with_the_event(aws: EmulatedAws) -> None:
    received: list[dict[str, Any]] = []
    _rule_to_function(aws, lambda event, context: received.append(event))
    _put_event(aws)
    assert [(e["source"], e["detail"]) for e in received] == [("canary", {"k": 1})]
    aws.client("events").put_events(Entries=[{"Source": "other", "DetailType": "t", "Detail": "{}"}])
    assert len(received) == 1  # the pattern still filters


# --- the deployed stack: an upload runs sales_report ----------------------------------------------


@pytest.fixture(scope="module")
def stack(cdk_assembly: Any) -> Iterator[StackSandbox]:
    if importlib.util.find_spec("aws_cdk") is None:
        pytest.skip("synthesizing the app needs the cdk extra: pip install -e '.[cdk]'")
    with StackSandbox(project_dir=REPO, template_dir=cdk_assembly.outdir) as deployed:
        yield deployed


def _sales_executions(stack: StackSandbox) -> list[dict[str, Any]]:
    arn = stack.client.state_machines["sales_report"]
    return list(stack.aws.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"])


def test_an_upload_to_the_stack_bucket_runs_sales_report(stack: StackSandbox, tmp_path: Path) -> None:
    assert stack.deployment.trigger_function is not None
    before = {e["name"] for e in _sales_executions(stack)}
    s3 = stack.aws.client("s3")
    s3.put_object(Bucket=stack.client.bucket, Key="incoming/x.csv", Body=SALES.read_bytes())
    started = [e for e in _sales_executions(stack) if e["name"] not in before]
    assert len(started) == 1
    spec = sales_spec()
    execution = Execution(stack.client, spec, started[0]["name"], started[0]["executionArn"]).wait(timeout=60)
    local = run_local(spec, {"data": str(SALES)}, RunOptions(home=tmp_path, progress=False)).outputs
    assert execution.outputs()["o0"] == local["o0"]
    s3.put_object(Bucket=stack.client.bucket, Key="incoming/x.txt", Body=b"not a csv")
    s3.put_object(Bucket=stack.client.bucket, Key="elsewhere/x.csv", Body=SALES.read_bytes())
    assert len(_sales_executions(stack)) == len(before) + 1
