"""Each construct on its own in a bare ``Stack()`` (cheap ones), and props validated in one error."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from infra.constructs import (
    CacheTable,
    DependencyBundling,
    FargateCompute,
    FargateShape,
    PayloadBucket,
    PropsError,
    TaskFunction,
    WorkflowStateMachine,
)
from stratoflow.backends import asl
from stratoflow.define import load_workflow
from stratoflow.lower import lower

REPO = Path(__file__).resolve().parents[2]
FEATURES = REPO / "examples" / "features.py"


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App())


def test_payload_bucket() -> None:
    stack = _stack()
    payload = PayloadBucket(stack, "Payload", runs_expire_days=7)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with([Match.object_like({"Prefix": "runs/", "ExpirationInDays": 7})])
            },
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": Match.string_like_regexp("^PayloadAccessLogs")},
                "LogFilePrefix": "data/",
            },
        },
    )
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})
    assert isinstance(payload.bucket, s3.Bucket)


def test_payload_bucket_reports_every_bad_prop_at_once() -> None:
    with pytest.raises(PropsError) as caught:
        PayloadBucket(_stack(), "Payload", runs_expire_days=0, noncurrent_versions_expire_days=-1)
    assert len(caught.value.problems) == 2
    assert "1. runs_expire_days must be at least 1 day, got 0" in str(caught.value)
    assert "2. noncurrent_versions_expire_days" in str(caught.value)


def test_cache_table() -> None:
    stack = _stack()
    CacheTable(stack, "Cache")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Delete"})


def test_task_function_x86_and_fake_dependencies_warn(bundle_cache: Path) -> None:
    stack = _stack()
    runner = TaskFunction(
        stack,
        "Runner",
        workflow_modules=[FEATURES],
        environment={"STRATOFLOW_BUCKET": "b", "STRATOFLOW_CACHE_TABLE": "t"},
        architecture="x86_64",
        memory_mib=2048,
        dependencies=DependencyBundling.FAKE_FOR_TESTS,
        cache_dir=bundle_cache,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Architectures": ["x86_64"], "MemorySize": 2048, "Runtime": "python3.12"},
    )
    # No AWSLambdaBasicExecutionRole: the role may only write its own log group.
    template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("WITHOUT its pip dependencies"))
    assert (runner.bundle_path / "features.py").is_file()


def test_task_function_reports_every_bad_prop_at_once(bundle_cache: Path) -> None:
    with pytest.raises(PropsError) as caught:
        TaskFunction(
            _stack(),
            "Runner",
            workflow_modules=[REPO / "examples" / "missing.py"],
            environment={},
            architecture="sparc",  # type: ignore[arg-type]
            memory_mib=64,
            timeout_seconds=901,
            cache_dir=bundle_cache,
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert any("architecture must be one of ['arm64', 'x86_64']" in p for p in problems)
    assert any("missing.py" in p for p in problems)


def _shape() -> FargateShape:
    return FargateShape(placeholder="TaskDef_cpu2_mem4096", cpu_units=2048, memory_mib=4096)


def test_fargate_compute() -> None:
    stack = _stack()
    compute = FargateCompute(
        stack,
        "Compute",
        shapes=[_shape()],
        image=ecs.ContainerImage.from_registry("example/stratoflow-task:1"),
        environment={"STRATOFLOW_BUCKET": "b"},
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::VPCEndpoint", 2)  # S3 + DynamoDB gateways
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "2048",
            "Memory": "4096",
            "ContainerDefinitions": [
                Match.object_like({"Name": "task", "Image": "example/stratoflow-task:1"})
            ],
        },
    )
    template.has_resource_properties("AWS::EC2::SecurityGroup", {"SecurityGroupIngress": Match.absent()})
    assert set(compute.substitutions()) == {
        "ClusterArn",
        "TaskSecurityGroup",
        "PrivateSubnet1",
        "PrivateSubnet2",
        "TaskDef_cpu2_mem4096",
    }


def test_fargate_compute_reports_every_bad_prop_at_once() -> None:
    with pytest.raises(PropsError) as caught:
        FargateCompute(
            _stack(),
            "Compute",
            shapes=[FargateShape("cpu3", 3072, 4096), _shape(), _shape()],
            image=ecs.ContainerImage.from_registry("example/img:1"),
            environment={},
            max_azs=1,
            nat_gateways=0,
        )
    text = str(caught.value)
    assert len(caught.value.problems) == 5
    assert "max_azs must be at least 2" in text
    assert "'cpu3' must start with 'TaskDef_'" in text
    assert "3072 CPU units with 4096 MiB is not a valid Fargate size" in text
    assert "duplicate shapes: TaskDef_cpu2_mem4096" in text


def test_workflow_state_machine_lambda_only(bundle_cache: Path) -> None:
    stack = _stack()
    compiled = asl.compile_workflow(lower(load_workflow(str(FEATURES), "features")))
    bucket = s3.Bucket(stack, "Bucket")
    runner = TaskFunction(
        stack,
        "Runner",
        workflow_modules=[FEATURES],
        environment={},
        dependencies=DependencyBundling.FAKE_FOR_TESTS,
        cache_dir=bundle_cache,
    )
    workflow = WorkflowStateMachine(
        stack, "Features", compiled=compiled, runner=runner.function, bucket=bucket
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "DefinitionString": compiled.deployed_json(),
            "DefinitionSubstitutions": {"TaskRunnerFunctionArn": Match.any_value()},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
            "TracingConfiguration": {"Enabled": True},
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": Match.string_like_regexp("^/aws/vendedlogs/states/")}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ExecutionsFailed", "Threshold": 1}
    )
    assert workflow.state_machine.node.dependencies == [workflow.spec_upload]


def test_workflow_state_machine_needs_compute_for_fargate_nodes(bundle_cache: Path) -> None:
    stack = _stack()
    compiled = asl.compile_workflow(lower(load_workflow(str(REPO / "examples" / "training.py"), "training")))
    runner = TaskFunction(
        stack,
        "Runner",
        workflow_modules=[FEATURES],
        environment={},
        dependencies=DependencyBundling.FAKE_FOR_TESTS,
        cache_dir=bundle_cache,
    )
    with pytest.raises(PropsError) as caught:
        WorkflowStateMachine(
            stack,
            "Training",
            compiled=compiled,
            runner=runner.function,
            bucket=s3.Bucket(stack, "Bucket"),
            failed_executions_threshold=0,
        )
    (unfilled, threshold) = caught.value.problems
    assert "ClusterArn, PrivateSubnet1, PrivateSubnet2, TaskDef_cpu8_mem32768, TaskSecurityGroup" in unfilled
    assert "compute=FargateCompute(...)" in unfilled
    assert "failed_executions_threshold" in threshold
