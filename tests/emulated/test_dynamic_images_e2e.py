"""A ``@dynamic`` body calling a Lambda task with an image of its own, on the real CDK app created in
moto's CloudFormation: the interpreter invokes that image's function (``lambda_image``), whose ARN
the runner has from the stack (``STRATOFLOW_DYNAMIC_COMPUTE``); the result is the local run's."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client._records import stored_records
from stratoflow.define import load_workflow
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import Sandbox, StackSandbox
from stratoflow.testing._sandbox import RUNNER_FUNCTION
from stratoflow.testing._stack import TEST_CONTEXT
from tests.emulated import dynamic_image_flows as flows

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
FLOWS = Path(flows.__file__)
STACK = "DynImages"  # short: moto names machines <stack>-<logical id>-<suffix>, 80 at most
WORKFLOWS = ("dynamic_images", "dynamic_in_image", "dynamic_elsewhere", "dynamic_on_fargate")


@pytest.fixture(scope="module")
def stack() -> Iterator[StackSandbox]:
    context = {
        **TEST_CONTEXT,
        "stratoflow:workflows": [f"{FLOWS}:{name}" for name in WORKFLOWS],
        "stratoflow:stackName": STACK,
    }
    with StackSandbox(project_dir=REPO, context=context, stack_name=STACK) as deployed:
        yield deployed


def _spec(name: str) -> Any:
    return lower(load_workflow(str(FLOWS), name))  # the refs the stack's IR names


def _image_function(stack: StackSandbox, workflow: str) -> str:
    """The physical name of ``workflow``'s function of image ``SCALER``."""
    lam = stack.aws.client("lambda")
    (name,) = [
        name
        for name in stack.deployment.image_functions
        if workflow.replace("_", "").lower() in name.lower()
        and flows.SCALER.tag in lam.get_function_configuration(FunctionName=name)["Description"]
    ]
    return name


def _ran_on(s3: Any, bucket: str, workflow: str, run_id: str) -> dict[str, str]:
    """Node -> the Lambda function whose log group its record names (the run and its sub-runs)."""
    prefix = protocol.workflow_runs_prefix(workflow)
    runs = {
        key.removeprefix(prefix).split("/", 1)[0]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for key in (o["Key"] for o in page.get("Contents", []))
    }
    found = {}
    for run in sorted(r for r in runs if r.startswith(run_id)):
        for record in stored_records(s3, bucket, workflow, run):
            if record.logs is not None and record.logs.group:
                found[record.node] = record.logs.group.removeprefix("/aws/lambda/")
    return found


@pytest.mark.parametrize("workflow", ["dynamic_images", "dynamic_in_image"])
def test_a_dynamic_image_task_runs_on_its_image_function_and_matches_the_local_run(
    stack: StackSandbox, tmp_path: Path, workflow: str
) -> None:
    spec = _spec(workflow)
    local = run_local(spec, {"xs": [1, 2, 3]}, RunOptions(home=tmp_path, progress=False)).outputs
    execution = stack.run(spec, {"xs": [1, 2, 3]})
    assert execution.outputs() == local == {"o0": 60}
    assert stack.aws.runtime_errors() == []
    ran = _ran_on(stack.aws.client("s3"), stack.deployment.outputs["BucketName"], workflow, execution.run_id)
    image = _image_function(stack, workflow)
    scaled = {node: fn for node, fn in ran.items() if node.split("__")[-1].startswith("scaled")}
    assert len(scaled) == 3
    assert set(scaled.values()) == {image}
    # ... and the task without an image on the workflow's shared runner.
    (total,) = [fn for node, fn in ran.items() if node.endswith("__total")]
    assert total in stack.deployment.runner_functions


def _started_families(ecs: Any) -> list[str]:
    """The task-definition family of every ECS task the emulated clusters ran."""
    families = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        for status in ("RUNNING", "STOPPED"):
            arns = ecs.list_tasks(cluster=cluster, desiredStatus=status)["taskArns"]
            if arns:
                for found in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
                    families.append(found["taskDefinitionArn"].rsplit("/", 1)[1].rsplit(":", 1)[0])
    return families


def test_a_dynamic_image_task_on_fargate_runs_in_its_images_task_definition(
    stack: StackSandbox, tmp_path: Path
) -> None:
    spec = _spec("dynamic_on_fargate")
    before = Counter(_started_families(stack.aws.client("ecs")))
    local = run_local(spec, {"xs": [1, 2]}, RunOptions(home=tmp_path, progress=False)).outputs
    execution = stack.run(spec, {"xs": [1, 2]})
    assert execution.outputs() == local == {"o0": 330}
    assert stack.aws.runtime_errors() == []
    started = list((Counter(_started_families(stack.aws.client("ecs"))) - before).elements())
    # The two scaled_big nodes, each in a container of SCALER's generic task definition, the one
    # the stack gave the runner (not the shared image's generic one).
    held = json.loads(_runner_environment(stack, "dynamic_on_fargate")[protocol.ENV_DYNAMIC_COMPUTE])
    image_definition = held["image_task_definitions"][flows.SCALER.tag]
    assert started == [image_definition.rsplit("/", 1)[1].rsplit(":", 1)[0]] * 2
    ran = _ran_on(stack.aws.client("s3"), stack.deployment.outputs["BucketName"], spec.name, execution.run_id)
    assert {fn for node, fn in ran.items() if "scaled_" in node and "big" not in node} == {
        _image_function(stack, "dynamic_on_fargate")
    }


def _runner_environment(stack: StackSandbox, workflow: str) -> dict[str, str]:
    lam = stack.aws.client("lambda")
    (runner,) = [
        lam.get_function_configuration(FunctionName=name)
        for name in stack.deployment.runner_functions
        if f"runtime{workflow.replace('_', '')}runner" in name.lower()
    ]
    return dict(runner["Environment"]["Variables"])


def test_the_runner_holds_the_image_function_arns_and_the_image_function_the_tags(
    stack: StackSandbox,
) -> None:
    lam = stack.aws.client("lambda")
    image = lam.get_function_configuration(FunctionName=_image_function(stack, "dynamic_in_image"))
    held = json.loads(_runner_environment(stack, "dynamic_in_image")[protocol.ENV_DYNAMIC_COMPUTE])
    assert held["image_functions"] == {flows.SCALER.tag: image["FunctionArn"]}
    planned = json.loads(image["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE])
    assert planned["image_functions"] == {flows.SCALER.tag: ""}


def test_an_image_task_from_a_module_the_stack_did_not_scan_fails_at_plan_time(
    stack: StackSandbox, tmp_path: Path
) -> None:
    spec = _spec("dynamic_elsewhere")
    local = run_local(spec, {"n": 2}, RunOptions(home=tmp_path, progress=False)).outputs
    assert local == {"o0": "fit=2 score=2"}
    with pytest.raises(TaskFailedError) as caught:
        stack.run(spec, {"n": 2})
    message = str(caught.value)
    assert "@dynamic node 'reports_elsewhere' built a graph this stack cannot run" in message
    assert (
        f"task 'report' has its own image (ImageSpec 'reporter', tag {flows.elsewhere.REPORTER.tag})"
        in message
    )
    assert "the stack deployed no function of that image for dynamic graphs" in message


def test_the_sandbox_runs_them_on_the_image_function_too(tmp_path: Path) -> None:
    # `stratoflow run --sandbox`: the sandbox deploys what the stack would (the module's image functions).
    spec = lower(flows.dynamic_images)
    local = run_local(spec, {"xs": [4, 5]}, RunOptions(home=tmp_path, progress=False)).outputs
    with Sandbox() as sandbox:
        execution = sandbox.run(spec, {"xs": [4, 5]})
        assert execution.outputs() == local == {"o0": 90}
        ran = _ran_on(sandbox.aws.client("s3"), sandbox.bucket, spec.name, execution.run_id)
        scaled = {fn for node, fn in ran.items() if node.split("__")[-1].startswith("scaled")}
        assert scaled == {f"{RUNNER_FUNCTION}-{flows.SCALER.tag}"}
        with pytest.raises(
            TaskFailedError, match=r"task 'report' has its own image .* no function of that image"
        ):
            sandbox.run(lower(flows.dynamic_elsewhere), {"n": 2})
        fargate = lower(flows.dynamic_on_fargate)
        before = Counter(_started_families(sandbox.aws.client("ecs")))  # moto's state outlives a sandbox
        assert sandbox.run(fargate, {"xs": [3]}).outputs() == {"o0": 330}
        families = list((Counter(_started_families(sandbox.aws.client("ecs"))) - before).elements())
        shape = protocol.task_definition_shape(protocol.dynamic_task_definition(flows.SCALER.tag))
        assert families == [f"stratoflow-{shape.replace('_', '-')}"]
