"""The synthesized StratoflowStack: resources, least-privilege IAM, exact ASL, cdk-nag and cfn-lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stratoflow.backends import asl
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from tests.infra.synth import Synth

WORKFLOWS = {
    "sales_report": ("examples/etl.py", "SalesReport"),
    "features": ("examples/features.py", "Features"),
    "training": ("examples/training.py", "Training"),
    "digits": ("examples/digits.py", "Digits"),
}
# Actions that AWS authorizes only on Resource "*" (no resource-level permissions).
RESOURCE_STAR_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    "ecr:GetAuthorizationToken",
    # Actor workers answer task tokens; the runner counts workers (cluster condition only).
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "ecs:ListTasks",
}
# cfn-lint warnings accepted, with the reason.
ALLOWED_CFN_LINT = {
    # CDK adds an explicit DependsOn on a role that a GetAtt already orders; redundant, harmless.
    "W3005",
}


@pytest.fixture(scope="module")
def template(synth: Synth) -> Template:
    return Template.from_json(synth.template)


@pytest.fixture(scope="module")
def compiled() -> dict[str, asl.CompiledWorkflow]:
    return {
        name: asl.compile_workflow(lower(load_workflow(path, name))) for name, (path, _) in WORKFLOWS.items()
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in synth.resources("AWS::IAM::Policy").items():
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, statement))
    return found


def _state_machine(synth: Synth, workflow: str) -> tuple[str, dict[str, Any]]:
    pascal = WORKFLOWS[workflow][1]
    (item,) = [
        (k, v)
        for k, v in synth.resources("AWS::StepFunctions::StateMachine").items()
        if k.startswith(f"Workflow{pascal}StateMachine")
    ]
    return item


def test_resource_counts(template: Template) -> None:
    template.resource_count_is("AWS::S3::Bucket", 2)  # data + its access logs
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 4)
    template.resource_count_is("AWS::ECS::Cluster", 1)
    # training's train (the shared image), digits' train (its image) and digits' inference workers.
    template.resource_count_is("AWS::ECS::TaskDefinition", 3)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    # Each workflow's runner (four), digits' image runner (load_split), the trigger starter, CDK's
    # custom-resource provider and its bucket-notifications handler.
    template.resource_count_is("AWS::Lambda::Function", 8)
    template.resource_count_is("AWS::Events::Rule", 1)  # sales_report's S3 trigger
    template.resource_count_is("Custom::AWS", 4)  # one IR upload per workflow
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)
    template.resource_count_is("AWS::SQS::Queue", 2)  # the trigger starter's DLQ, digits-inference's


def test_no_example_uses_dynamic_so_no_interpreter(synth: Synth) -> None:
    assert not any("DynamicInterpreter" in k for k in synth.template["Resources"])
    assert "DynamicInterpreterArn" not in json.dumps(synth.template)
    assert "dynamic-specs/" not in json.dumps(synth.template)


def test_data_bucket_is_encrypted_private_versioned_logged_and_expires_runs(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "data/"}),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"Prefix": "runs/", "ExpirationInDays": 30, "Status": "Enabled"})]
                )
            },
        },
    )


def test_every_bucket_denies_plain_http(synth: Synth) -> None:
    policies = synth.resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_cache_table_on_demand_with_ttl_pitr_and_encryption(template: Template) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )


def test_runner_function(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "stratoflow_functions.task_runner.handler",
            "Timeout": 900,
            # Sized for the largest Lambda-routed request: cpu=1 -> 1,769 MB (Lambda's MB per vCPU).
            "MemorySize": 1769,
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "STRATOFLOW_BUCKET": {"Ref": Match.string_like_regexp("^PayloadBucket")},
                        "STRATOFLOW_CACHE_TABLE": {"Ref": Match.string_like_regexp("^CacheTable")},
                        "STRATOFLOW_CACHE_TTL_DAYS": "30",
                    }
                )
            },
        },
    )


def test_runner_bundle_holds_sources_and_workflow_modules(synth: Synth) -> None:
    bundle = synth.runner_asset()
    for relative in (
        "stratoflow/__init__.py",
        "stratoflow/runtime/__init__.py",
        "stratoflow_functions/task_runner.py",
        "etl.py",
        "features.py",
        "training.py",
        "digits.py",
        "STRATOFLOW_FAKE_DEPENDENCIES_FOR_TESTS.txt",
    ):
        assert (bundle / relative).is_file(), relative
    assert not list(bundle.rglob("__pycache__"))


def test_cluster_has_fargate_and_spot_capacity(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": Match.array_with(["FARGATE", "FARGATE_SPOT"])},
    )
    template.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}
    )


def test_task_definition_for_the_training_shape(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "8192",
            "Memory": "32768",
            "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"},
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "task",
                        "Command": ["python", "-m", "stratoflow_functions.container_entrypoint"],
                        "Environment": Match.array_with(
                            [{"Name": "STRATOFLOW_CACHE_TTL_DAYS", "Value": "30"}]
                        ),
                        "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
                    }
                )
            ],
        },
    )


def test_no_wildcard_actions_and_resource_star_only_where_aws_requires_it(synth: Synth) -> None:
    for logical_id, statement in _statements(synth):
        assert statement["Effect"] == "Allow", logical_id
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), (logical_id, actions)
        if "*" in _as_list(statement["Resource"]):
            assert set(actions) <= RESOURCE_STAR_ACTIONS, (logical_id, actions)


def test_only_the_cdk_provider_functions_use_a_managed_policy(synth: Synth) -> None:
    managed = {
        k for k, v in synth.resources("AWS::IAM::Role").items() if v["Properties"].get("ManagedPolicyArns")
    }
    providers = (
        "AWS679f53fac002430cb0da5b7982bd2287",
        "BucketNotificationsHandler050a0587b7544547bf325f094a3db834",
    )
    assert len(managed) == 2
    assert all(k.startswith(providers) for k in managed)


def _role_actions(synth: Synth, workflow: str) -> set[str]:
    pascal = WORKFLOWS[workflow][1]
    actions: set[str] = set()
    for logical_id, statement in _statements(synth):
        if logical_id.startswith((f"Workflow{pascal}Role", f"Workflow{pascal}ChildExecutions")):
            actions.update(_as_list(statement["Action"]))
    return {a for a in actions if a not in RESOURCE_STAR_ACTIONS}


def test_state_machine_roles_get_only_what_their_definition_calls(synth: Synth) -> None:
    assert _role_actions(synth, "sales_report") == {"lambda:InvokeFunction"}
    assert _role_actions(synth, "features") == {"lambda:InvokeFunction"}
    assert _role_actions(synth, "training") == {
        "lambda:InvokeFunction",
        "s3:GetObject",
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "ecs:RunTask",
        "ecs:StopTask",
        "ecs:DescribeTasks",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    }
    # digits: training's, plus sending predict's batches to its actor queue.
    assert _role_actions(synth, "digits") == _role_actions(synth, "training") | {"sqs:SendMessage"}


def test_training_role_scopes(synth: Synth) -> None:
    by_sid = {
        s.get("Sid"): s for logical_id, s in _statements(synth) if logical_id.startswith("WorkflowTraining")
    }
    assert by_sid["RunTaskDefinitions"]["Resource"]["Ref"].startswith(
        "RuntimeTrainingTasksTaskDefcpu8mem32768"
    )
    assert by_sid["RunTaskDefinitions"]["Condition"]["ArnEquals"]["ecs:cluster"]["Fn::GetAtt"][0].startswith(
        "ComputeCluster"
    )
    assert by_sid["PassTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert json.dumps(by_sid["ReadMapItems"]["Resource"]).endswith('"/runs/training/*"]]}')
    assert "rule/StepFunctionsGetEventsForECSTaskRule" in json.dumps(by_sid["SyncEventsRule"]["Resource"])
    assert by_sid["StartMapChildren"]["Resource"]["Ref"].startswith("WorkflowTrainingStateMachine")


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_definition_is_the_compiled_asl(
    synth: Synth, compiled: dict[str, asl.CompiledWorkflow], workflow: str
) -> None:
    _, machine = _state_machine(synth, workflow)
    props = machine["Properties"]
    assert props["DefinitionString"] == compiled[workflow].deployed_json()
    assert sorted(props["DefinitionSubstitutions"]) == list(compiled[workflow].placeholders)
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    runner = props["DefinitionSubstitutions"]["TaskRunnerFunctionArn"]
    assert runner["Fn::GetAtt"][0].startswith(f"Runtime{WORKFLOWS[workflow][1]}RunnerFunction")


def test_fargate_substitutions_point_at_the_stack_resources(synth: Synth) -> None:
    _, machine = _state_machine(synth, "training")
    subs = machine["Properties"]["DefinitionSubstitutions"]
    assert subs["DataBucket"]["Ref"].startswith("PayloadBucket")
    assert subs["ClusterArn"]["Fn::GetAtt"][0].startswith("ComputeCluster")
    assert subs["TaskDef_cpu8_mem32768"]["Ref"].startswith("RuntimeTrainingTasksTaskDefcpu8mem32768")
    assert subs["TaskSecurityGroup"]["Fn::GetAtt"][0].startswith("ComputeTaskSecurityGroup")
    subnets = {subs["PrivateSubnet1"]["Ref"], subs["PrivateSubnet2"]["Ref"]}
    assert len(subnets) == 2
    assert all(name.startswith("ComputeVpctasksSubnet") for name in subnets)


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_spec_is_uploaded_before_the_machine_exists(
    synth: Synth, compiled: dict[str, asl.CompiledWorkflow], workflow: str
) -> None:
    pascal = WORKFLOWS[workflow][1]
    (upload_id,) = [k for k in synth.resources("Custom::AWS") if k.startswith(f"Workflow{pascal}SpecUpload")]
    create = json.dumps(synth.template["Resources"][upload_id]["Properties"]["Create"])
    assert compiled[workflow].spec_key in create
    # The body travels as a JSON string inside the custom resource's JSON call.
    assert json.dumps(json.dumps(compiled[workflow].spec_json.decode()))[3:-3] in create
    _, machine = _state_machine(synth, workflow)
    assert upload_id in machine["DependsOn"]


def test_outputs(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    for _, pascal in WORKFLOWS.values():
        assert outputs[f"StateMachine{pascal}"]["Value"]["Ref"].startswith(f"Workflow{pascal}StateMachine")
    assert {"StateMachines", "BucketName", "CacheTableName"} <= set(outputs)


def test_cdk_nag_found_nothing_unacknowledged(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    assert plugin["suppressedViolations"], "expected the acknowledged findings to be reported"
    for suppressed in plugin["suppressedViolations"]:
        assert len(suppressed["reason"]) > 40, suppressed["acknowledgedId"]


def _cfn_lint() -> str:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed (pip install cfn-lint==1.58.0)"
    return found


def test_cfn_lint_passes(synth: Synth) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr  # 4: warnings only
    findings = json.loads(result.stdout or "[]")
    unexpected = [f for f in findings if f["Rule"]["Id"] not in ALLOWED_CFN_LINT]
    assert unexpected == []


def test_cfn_lint_checks_the_definition_string(synth: Synth, tmp_path: Path) -> None:
    """The gate is real: a broken definition in the same template is an E3601 error."""
    broken = json.loads(json.dumps(synth.template))
    machine_id, _ = _state_machine(synth, "sales_report")
    definition = json.loads(broken["Resources"][machine_id]["Properties"]["DefinitionString"])
    definition["States"][definition["StartAt"]]["End"] = True  # Next and End together
    broken["Resources"][machine_id]["Properties"]["DefinitionString"] = json.dumps(definition)
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(path)], capture_output=True, text=True, check=False
    )
    assert "E3601" in {f["Rule"]["Id"] for f in json.loads(result.stdout)}


# --- digits: its ImageSpec on Lambda, Fargate and the actor workers --------------------------------


def _digits_asset(synth: Synth, platform: str) -> str:
    """The Docker asset hash of digits' ML image for ``platform`` (its staged Dockerfile names the tag)."""
    from stratoflow.define import load_workflow as load

    load("examples/digits.py", "digits")
    tag = sys.modules["digits"].ML.tag
    manifest = json.loads((synth.outdir / "Stratoflow.assets.json").read_text())
    found = [
        asset_hash
        for asset_hash, asset in manifest["dockerImages"].items()
        if asset["source"]["platform"] == platform
        and f"tag {tag}." in (synth.outdir / asset["source"]["directory"] / "Dockerfile").read_text()
    ]
    assert len(found) == 1, (platform, found)
    return found[0]


def _task_definition_images(synth: Synth) -> dict[str, str]:
    """Each task definition's logical id -> its container's image, as JSON text."""
    images = {}
    for logical_id, resource in synth.resources("AWS::ECS::TaskDefinition").items():
        (container,) = resource["Properties"]["ContainerDefinitions"]
        images[logical_id] = json.dumps(container["Image"])
    return images


def test_digits_actor_workers_run_the_environments_image(synth: Synth) -> None:
    amd64 = _digits_asset(synth, "linux/amd64")
    images = _task_definition_images(synth)
    (worker,) = [k for k in images if k.startswith("RuntimeDigitsActorsWorkerdigitsinference")]
    assert amd64 in images[worker]
    # digits' train runs the same x86_64 image; training's train (no image) the shared one.
    (train,) = [k for k in images if k.startswith("RuntimeDigitsTasksTaskDefcpu4mem16384img")]
    assert amd64 in images[train]
    (shared,) = [k for k in images if k.startswith("RuntimeTrainingTasksTaskDefcpu8mem32768")]
    assert amd64 not in images[shared]


def test_digits_load_split_runs_on_a_container_image_function_of_its_arm64_image(synth: Synth) -> None:
    arm64 = _digits_asset(synth, "linux/arm64")
    (function,) = [
        v["Properties"]
        for k, v in synth.resources("AWS::Lambda::Function").items()
        if v["Properties"].get("PackageType") == "Image"
    ]
    assert function["Architectures"] == ["arm64"]
    assert arm64 in json.dumps(function["Code"]["ImageUri"])
    manifest = json.loads((synth.outdir / "Stratoflow.assets.json").read_text())
    # The ML image for arm64 (Lambda) and x86_64 (Fargate, workers), and the shared task image.
    assert len(manifest["dockerImages"]) == 3
