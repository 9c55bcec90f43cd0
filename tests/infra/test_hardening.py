"""Issue 9 item 8 on the synthesized app: HTTPS-only egress, unprivileged containers on a read-only
root, the trigger starter's encrypted dead-letter queue, exact spec grants, and the opt-in
customer-managed key and reserved concurrency (context flags), cdk-nag and cfn-lint clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3

from infra.app import build_app
from infra.constructs import PropsError, runner_data_statements
from infra.constructs.workflow_state_machine import pascal_case
from infra.stacks import StackSettings
from stratoflow.backends import asl
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from tests.infra.synth import Synth, cdk_json_context, load
from tests.infra.test_stack import ALLOWED_CFN_LINT, WORKFLOWS, _as_list, _cfn_lint, _statements

KMS_CONTEXT = {"stratoflow:kms": True, "stratoflow:runnerReservedConcurrency": 50}


@pytest.fixture(scope="module")
def kms_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    """The cdk.json app with both opt-in flags on."""
    outdir = tmp_path_factory.mktemp("cdk-kms")
    context = {
        **cdk_json_context(),
        **KMS_CONTEXT,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    return load(outdir)


def _one(synth: Synth, type_: str, prefix: str) -> tuple[str, dict[str, Any]]:
    (item,) = [(k, v["Properties"]) for k, v in synth.resources(type_).items() if k.startswith(prefix)]
    return item


def _spec_arns(synth: Synth) -> dict[str, dict[str, Any]]:
    """Each workflow's deployed spec object, as its roles' grants name it."""
    (bucket,) = [k for k in synth.resources("AWS::S3::Bucket") if k.startswith("PayloadBucket")]
    keys = {
        name: asl.compile_workflow(lower(load_workflow(path, name))).spec_key
        for name, (path, _) in WORKFLOWS.items()
    }
    return {
        name: {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{key}"]]} for name, key in keys.items()
    }


# --- the default (cdk.json) template ------------------------------------------------------------


def test_tasks_may_leave_the_vpc_only_on_https(synth: Synth) -> None:
    _, group = _one(synth, "AWS::EC2::SecurityGroup", "ComputeTaskSecurityGroup")
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs and the internet",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group
    assert not synth.resources("AWS::EC2::SecurityGroupEgress")  # no rule added elsewhere either


def test_task_container_is_unprivileged_on_a_read_only_root_with_a_scratch_tmpdir(synth: Synth) -> None:
    for logical_id, properties in synth.resources("AWS::ECS::TaskDefinition").items():
        td = properties["Properties"]
        (container,) = td["ContainerDefinitions"]
        assert container["User"] == "1000:1000", logical_id
        assert container["ReadonlyRootFilesystem"] is True, logical_id
        assert container["MountPoints"] == [
            {"ContainerPath": "/scratch", "ReadOnly": False, "SourceVolume": "scratch"}
        ]
        assert td["Volumes"] == [{"Name": "scratch"}]  # task storage, gone with the task
        assert {"Name": "TMPDIR", "Value": "/scratch"} in container["Environment"]
        assert not container.get("Privileged")


def test_trigger_starter_sends_failed_events_to_an_encrypted_dead_letter_queue(synth: Synth) -> None:
    queue_id, queue = _one(synth, "AWS::SQS::Queue", "TriggersDeadLetters")
    assert queue["KmsMasterKeyId"] == "alias/aws/sqs"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    _, function = _one(synth, "AWS::Lambda::Function", "TriggersFunction")
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    _, invoke = _one(synth, "AWS::Lambda::EventInvokeConfig", "TriggersFunction")
    assert invoke["MaximumRetryAttempts"] == 2
    (policy,) = [
        v["Properties"]["PolicyDocument"]
        for k, v in synth.resources("AWS::SQS::QueuePolicy").items()
        if k.startswith("TriggersDeadLetters")
    ]
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    senders = [s for _, s in _statements(synth) if "sqs:SendMessage" in _as_list(s["Action"])]
    # Only the starter sends to its DLQ; digits' workflow sends only to its actor queue.
    actor_sends = [s["Resource"] for s in senders if s.get("Sid") == "SendActorTasks"]
    assert [r["Fn::GetAtt"][0].startswith("RuntimeDigitsActorsQueue") for r in actor_sends] == [True]
    assert [s["Resource"] for s in senders if s.get("Sid") != "SendActorTasks"] == [
        {"Fn::GetAtt": [queue_id, "Arn"]}
    ]


def test_each_workflow_s_roles_read_exactly_its_deployed_spec(synth: Synth) -> None:
    readers = {k: s for k, s in _statements(synth) if s.get("Sid") == "ReadDeployedSpecs"}
    load_workflow("examples/digits.py", "digits")
    digits_image = sys.modules["digits"].ML.tag
    # Each workflow's runner; training's and digits' container tasks, digits' image runner and actors.
    assert sorted(k.removesuffix(k[-8:]) for k in readers) == [
        "RuntimeDigitsActorsWorkerRoledigitsinferenceDefaultPolicy",
        f"RuntimeDigitsImageRunner{digits_image}RoleDefaultPolicy",
        "RuntimeDigitsRunnerRoleDefaultPolicy",
        "RuntimeDigitsTasksTaskRoleDefaultPolicy",
        "RuntimeFeaturesRunnerRoleDefaultPolicy",
        "RuntimeSalesReportRunnerRoleDefaultPolicy",
        "RuntimeTrainingRunnerRoleDefaultPolicy",
        "RuntimeTrainingTasksTaskRoleDefaultPolicy",
    ]
    arns = _spec_arns(synth)
    for logical_id, statement in readers.items():
        (workflow,) = [w for w in WORKFLOWS if logical_id.startswith(f"Runtime{pascal_case(w)}")]
        assert statement["Action"] == "s3:GetObject"
        assert statement["Resource"] == arns[workflow]
    assert "/specs/*" not in json.dumps(synth.template)
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    acknowledged = [s["acknowledgedId"] for s in report["pluginReports"][0]["suppressedViolations"]]
    assert not [a for a in acknowledged if "/specs/" in a]


def test_no_customer_managed_key_or_reserved_concurrency_unless_asked(synth: Synth) -> None:
    assert not synth.resources("AWS::KMS::Key")
    runners = [v for k, v in synth.resources("AWS::Lambda::Function").items() if "RunnerFunction" in k]
    assert len(runners) == 4  # one per workflow
    for runner in runners:
        assert "ReservedConcurrentExecutions" not in runner["Properties"]
        assert "KmsKeyArn" not in runner["Properties"]


# --- stratoflow:kms and stratoflow:runnerReservedConcurrency --------------------------------------


def test_the_key_encrypts_bucket_table_logs_environments_and_dlq(kms_synth: Synth) -> None:
    key_id, key = _one(kms_synth, "AWS::KMS::Key", "EncryptionKey")
    arn = {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["EnableKeyRotation"] is True
    assert kms_synth.template["Resources"][key_id]["DeletionPolicy"] == "Retain"
    _, bucket = _one(kms_synth, "AWS::S3::Bucket", "PayloadBucket")
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"KMSMasterKeyID": arn, "SSEAlgorithm": "aws:kms"},
        }
    ]
    _, table = _one(kms_synth, "AWS::DynamoDB::Table", "CacheTable")
    assert table["SSESpecification"] == {"KMSMasterKeyId": arn, "SSEEnabled": True, "SSEType": "KMS"}
    log_groups = kms_synth.resources("AWS::Logs::LogGroup")
    assert len(log_groups) >= 6
    assert all(v["Properties"]["KmsKeyId"] == arn for v in log_groups.values())
    _, queue = _one(kms_synth, "AWS::SQS::Queue", "TriggersDeadLetters")
    assert queue["KmsMasterKeyId"] == arn
    with_environment = [v["Properties"] for v in kms_synth.resources("AWS::Lambda::Function").values()]
    assert all(p["KmsKeyArn"] == arn for p in with_environment if "Environment" in p)


def test_the_key_is_usable_only_through_the_data_services_and_this_accounts_logs(kms_synth: Synth) -> None:
    _, key = _one(kms_synth, "AWS::KMS::Key", "EncryptionKey")
    statements = {s.get("Sid", "admin"): s for s in key["KeyPolicy"]["Statement"]}
    assert set(statements) == {"admin", "UseThroughDataServices", "CloudWatchLogsOfThisAccount"}
    use = statements["UseThroughDataServices"]
    assert use["Principal"] == {"AWS": "*"}
    assert use["Condition"]["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}
    services = [part["Fn::Join"][1][0] for part in use["Condition"]["StringEquals"]["kms:ViaService"]]
    assert services == ["s3.", "dynamodb.", "sqs.", "lambda."]
    assert (
        "kms:EncryptionContext:aws:logs:arn"
        in statements["CloudWatchLogsOfThisAccount"]["Condition"]["ArnLike"]
    )
    assert all("kms:*" not in _as_list(s["Action"]) for sid, s in statements.items() if sid != "admin")


def test_runner_reserved_concurrency(kms_synth: Synth) -> None:
    runners = [v for k, v in kms_synth.resources("AWS::Lambda::Function").items() if "RunnerFunction" in k]
    assert len(runners) == 4  # each workflow's runner reserves its own
    assert all(runner["Properties"]["ReservedConcurrentExecutions"] == 50 for runner in runners)


def test_kms_template_is_cdk_nag_and_cfn_lint_clean(kms_synth: Synth) -> None:
    report = json.loads((kms_synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    assert all(len(s["reason"]) > 40 for s in plugin["suppressedViolations"])
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(kms_synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr
    assert [f for f in json.loads(result.stdout or "[]") if f["Rule"]["Id"] not in ALLOWED_CFN_LINT] == []


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ({"stratoflow:kms": "yes"}, "'stratoflow:kms' must be true or false, got 'yes'"),
        ({"stratoflow:runnerReservedConcurrency": 0}, "must be a positive integer, got 0"),
        ({"stratoflow:runnerReservedConcurrency": True}, "must be a positive integer, got True"),
        ({"stratoflow:runnerReservedConcurrency": "5"}, "must be a positive integer, got '5'"),
    ],
)
def test_bad_hardening_flags_are_reported(context: dict[str, Any], problem: str) -> None:
    with pytest.raises(PropsError) as caught:
        StackSettings.from_context({**cdk_json_context(), **context})
    assert [p for p in caught.value.problems if problem in p]


def test_hardening_flags_are_read() -> None:
    settings = StackSettings.from_context({**cdk_json_context(), **KMS_CONTEXT})
    assert (settings.kms, settings.runner_reserved_concurrency) == (True, 50)
    default = StackSettings.from_context(cdk_json_context())
    assert (default.kms, default.runner_reserved_concurrency) == (False, None)


def test_spec_grants_must_name_exact_keys_under_specs() -> None:
    stack = cdk.Stack(cdk.App(), "Grants")
    bucket = s3.Bucket(stack, "B")
    table = dynamodb.Table(
        stack, "T", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    with pytest.raises(PropsError) as caught:
        # A wildcard, a key outside specs/, and another workflow's spec: none is granted.
        runner_data_statements(
            bucket, table, ["specs/*", "runs/x.json", "specs/other/0123456789abcdef.json"], workflow="w"
        )
    assert len(caught.value.problems) == 3
    with pytest.raises(PropsError, match="at least one deployed spec"):
        runner_data_statements(bucket, table, [], workflow="w")


def test_access_log_bucket_is_versioned_and_its_old_versions_expire(synth: Synth) -> None:
    _, logs_bucket = _one(synth, "AWS::S3::Bucket", "PayloadAccessLogs")
    assert logs_bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in logs_bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-old-log-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rules["expire-old-log-versions"]["ExpiredObjectDeleteMarker"] is True
