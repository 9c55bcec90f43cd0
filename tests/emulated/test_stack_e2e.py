"""The real CDK app (``cdk.json``), synthesized and created in moto's CloudFormation, runs the examples.

Unlike ``test_e2e.py`` (the ``Sandbox``, which wires resources itself), everything here
comes from the stack: definition substitutions, the runner's environment, the task
definition's environment, the IR uploaded by the stack's custom resource, the outputs.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import EmulatedAws, StackDeployError, StackSandbox
from stratoflow.testing._stack import deploy_stack

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CASES = {
    "sales_report": ("etl.py", {"data": str(EXAMPLES / "data" / "sales.csv")}),
    "features": ("features.py", {"days": 2}),
    "training": ("training.py", {"samples": 200, "parts": 4}),
    "digits": ("digits.py", {"chunks": 3}),
}


def spec_of(workflow: str) -> ir.WorkflowSpec:
    return lower(load_workflow(str(EXAMPLES / CASES[workflow][0]), workflow))


@pytest.fixture(scope="module")
def stack(cdk_assembly: Any) -> Iterator[StackSandbox]:
    """The session's synthesized cdk.json app, deployed once for this module."""
    with StackSandbox(project_dir=REPO, template_dir=cdk_assembly.outdir) as deployed:
        yield deployed


def test_stack_completes_with_only_types_moto_lacks_left_out(stack: StackSandbox) -> None:
    deployment = stack.deployment
    assert deployment.skipped_resource_types == (
        "AWS::CloudWatch::Alarm",
        "AWS::ECS::ClusterCapacityProviderAssociations",
        # The trigger starter's async retry count and its DLQ's TLS-only policy: nothing the
        # emulation exercises (it invokes the starter synchronously, in-process).
        "AWS::Lambda::EventInvokeConfig",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
    )
    assert set(json.loads(deployment.outputs["StateMachines"])) == set(CASES)
    assert deployment.client.bucket == deployment.outputs["BucketName"]
    # training's train, digits' train (its image) and digits' inference workers.
    assert len(deployment.task_families) == 3
    assert set(deployment.actor_workers) == {"digits-inference"}


@pytest.mark.parametrize("workflow", sorted(CASES))
def test_workflow_ir_was_uploaded_by_the_stack(stack: StackSandbox, workflow: str) -> None:
    compiled = asl.compile_workflow(spec_of(workflow))
    s3 = stack.aws.client("s3")
    body = s3.get_object(Bucket=stack.client.bucket, Key=compiled.spec_key)["Body"].read()
    assert json.loads(body) == json.loads(compiled.spec_json)


def _same_outputs(emulated: dict[str, Any], local: dict[str, Any]) -> None:
    assert emulated.keys() == local.keys()
    for name, value in local.items():
        if hasattr(value, "content_hash"):  # a File: same bytes, different location
            assert emulated[name].content_hash() == value.content_hash()
        else:
            assert emulated[name] == value


# digits has its own test below (same comparison, plus where its tasks ran).
@pytest.mark.parametrize("workflow", sorted(set(CASES) - {"digits"}))
def test_example_matches_its_local_run(stack: StackSandbox, tmp_path: Path, workflow: str) -> None:
    spec, inputs = spec_of(workflow), CASES[workflow][1]
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    _same_outputs(stack.run(spec, inputs).outputs(), local)


def _events(stack: StackSandbox, arn: str) -> list[dict[str, Any]]:
    return stack.aws.wait(arn, timeout=60).events


def test_training_uses_a_distributed_map_and_fargate_spot(stack: StackSandbox) -> None:
    execution = stack.run(spec_of("training"), {"samples": 100, "parts": 3})
    events = _events(stack, execution.arn)
    assert any(e["type"] == "MapRunStarted" for e in events)
    launches = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])
        for e in events
        if e["type"] == "TaskScheduled" and "runTask" in e["taskScheduledEventDetails"]["resource"]
    ]
    assert [p["CapacityProviderStrategy"][0]["CapacityProvider"] for p in launches] == ["FARGATE_SPOT"]
    # The cluster, subnets and task definition are the stack's own (definition substitutions).
    cfn = stack.aws.client("cloudformation")
    physical = {
        r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=stack.stack_name)["StackResourceSummaries"]
    }
    assert launches[0]["TaskDefinition"] in physical
    assert set(launches[0]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]) <= physical


def test_second_run_is_all_cache_hits(stack: StackSandbox) -> None:
    spec = spec_of("features")
    stack.run(spec, {"days": 3})
    events = _events(stack, stack.run(spec, {"days": 3}).arn)
    results = [
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in events
        if e["type"] == "TaskSucceeded"
    ]
    assert len(results) == len(spec.nodes)
    assert all(result["hit"] for result in results), results


def test_runner_environment_comes_from_the_deployed_function(stack: StackSandbox) -> None:
    """Point the function's cache table elsewhere: the next invocation must use the new one."""
    assert "STRATOFLOW_BUCKET" not in os.environ  # set only around each in-process invocation
    lambda_client = stack.aws.client("lambda")
    # Each workflow has its own runner: move every one's table.
    names = stack.deployment.runner_functions
    assert len(names) == len(stack.deployment.client.state_machines)
    saved = {
        name: lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        for name in names
    }
    assert all(v["STRATOFLOW_BUCKET"] == stack.deployment.outputs["BucketName"] for v in saved.values())
    stack.aws.create_cache_table("moved-cache")
    for name, variables in saved.items():
        lambda_client.update_function_configuration(
            FunctionName=name,
            Environment={"Variables": {**variables, "STRATOFLOW_CACHE_TABLE": "moved-cache"}},
        )
    try:
        stack.run(spec_of("features"), {"days": 1})
    finally:
        for name, variables in saved.items():
            lambda_client.update_function_configuration(
                FunctionName=name, Environment={"Variables": variables}
            )
    assert stack.aws.client("dynamodb").scan(TableName="moved-cache")["Count"] == len(
        spec_of("features").nodes
    )


def test_deploy_names_the_resource_that_failed_and_why(aws: EmulatedAws, tmp_path: Path) -> None:
    """A hand-written cloud assembly whose custom resource writes to a bucket that does not exist."""
    template = {
        "Resources": {
            "Upload": {
                "Type": "Custom::AWS",
                "Properties": {
                    "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:none",
                    "Create": json.dumps(
                        {"service": "S3", "action": "PutObject", "parameters": {"Bucket": "gone", "Key": "k"}}
                    ),
                },
            }
        }
    }
    (tmp_path / "Broken.template.json").write_text(json.dumps(template))
    (tmp_path / "Broken.assets.json").write_text(
        json.dumps(
            {
                "files": {
                    "t": {
                        "source": {"path": "Broken.template.json", "packaging": "file"},
                        "destinations": {
                            "d": {"bucketName": "assets-${AWS::AccountId}", "objectKey": "t.json"}
                        },
                    }
                }
            }
        )
    )
    manifest = {
        "artifacts": {
            "Broken.assets": {"type": "cdk:asset-manifest", "properties": {"file": "Broken.assets.json"}},
            "Broken": {
                "type": "aws:cloudformation:stack",
                "dependencies": ["Broken.assets"],
                "properties": {"stackTemplateAssetObjectUrl": "s3://assets-${AWS::AccountId}/t.json"},
            },
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        StackDeployError, match=r"(?s)CREATE_IN_PROGRESS.*1\. Upload \(Custom::AWS\):.*NoSuchBucket"
    ):
        deploy_stack(aws, tmp_path, "Broken", timeout=0.2)


def _container_image(stack: StackSandbox, task_definition: str) -> str:
    ecs = stack.aws.client("ecs")
    (container,) = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
        "containerDefinitions"
    ]
    return str(container["image"])


def test_digits_runs_from_the_deployed_stack_as_it_runs_locally(
    stack: StackSandbox, cdk_assembly: Any, tmp_path: Path
) -> None:
    """predict's map items run on the digits-inference workers, train on Fargate Spot in its image."""
    from tests.infra.test_stack import _digits_asset  # needs the cdk extra

    spec, inputs = spec_of("digits"), CASES["digits"][1]
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    workers = stack.deployment.actor_workers["digits-inference"]
    before = workers.starts
    execution = stack.run(spec, inputs)
    _same_outputs(execution.outputs(), local)
    assert local["accuracy"] > 0.93

    # The map's children only send their batches to the queue (the deployed ASL, pinned by the
    # golden), so right predictions mean the workers ran them: at most replica_count starts.
    actor = spec.tasks["predict"].actor
    assert actor is not None
    assert 1 <= workers.starts - before <= actor.replica_count
    events = _events(stack, execution.arn)
    assert sum(e["type"] == "MapRunStarted" for e in events) == 1
    launches = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])
        for e in events
        if e["type"] == "TaskScheduled" and "runTask" in e["taskScheduledEventDetails"]["resource"]
    ]
    (train,) = launches
    assert train["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    # train's and the workers' task definitions both run digits' x86_64 image, not the shared one.
    image = _digits_asset(cdk_assembly, "linux/amd64")
    assert _container_image(stack, train["TaskDefinition"]).endswith(f":{image}")
    ecs = stack.aws.client("ecs")
    worker_tasks = ecs.list_tasks(
        cluster=train["Cluster"], startedBy=protocol.actor_worker_group("digits-inference", "digits")
    )["taskArns"]
    assert worker_tasks
    for task in ecs.describe_tasks(cluster=train["Cluster"], tasks=worker_tasks)["tasks"]:
        assert _container_image(stack, task["taskDefinitionArn"]).endswith(f":{image}")
