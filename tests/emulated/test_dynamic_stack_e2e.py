"""The real CDK app with a recursive ``@dynamic`` calling a Fargate task, created in moto's
CloudFormation: the interpreter's fixed name, its substitutions (cluster, subnets, the generic task
definition), the runner's ``STRATOFLOW_DYNAMIC_COMPUTE`` all come from the stack, as deployed."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox
from stratoflow.testing._stack import TEST_CONTEXT

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).with_name("dynamic_stack_flows.py")


@pytest.fixture(scope="module")
def stack() -> Iterator[StackSandbox]:
    context = {**TEST_CONTEXT, "stratoflow:workflows": [f"{FLOWS}:dynamic_stack", f"{FLOWS}:fanned"]}
    with StackSandbox(project_dir=REPO, context=context) as deployed:
        yield deployed


def test_recursive_dynamic_with_a_fargate_task_matches_the_local_run(
    stack: StackSandbox, tmp_path: Path
) -> None:
    spec = lower(load_workflow(str(FLOWS), "dynamic_stack"))
    local = run_local(spec, {"n": 5}, RunOptions(home=tmp_path, progress=False)).outputs
    assert stack.run(spec, {"n": 5}).outputs() == local == {"o0": 25 + 5}
    assert stack.aws.runtime_errors() == []


def test_a_map_over_a_fargate_task_inside_a_dynamic_matches_the_local_run(
    stack: StackSandbox, tmp_path: Path
) -> None:
    spec = lower(load_workflow(str(FLOWS), "fanned"))
    local = run_local(spec, {"n": 3}, RunOptions(home=tmp_path, progress=False)).outputs
    assert stack.run(spec, {"n": 3}).outputs() == local == {"o0": [0, 2, 4]}
    assert stack.aws.runtime_errors() == []
    ecs = stack.aws.client("ecs")
    clusters = ecs.list_clusters()["clusterArns"]
    tasks = [
        t
        for cluster in clusters
        for arns in [ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]]
        if arns
        for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    ]
    batches = [
        t
        for t in tasks
        if {"name": protocol.ENV_MODE, "value": protocol.Mode.MAP_ITEMS.value}
        in t["overrides"]["containerOverrides"][0]["environment"]
    ]
    # One batch of the three items, in a container of the task's size (4 vCPU, 16 GiB).
    assert [(t["overrides"]["cpu"], t["overrides"]["memory"]) for t in batches] == [("4096", "16384")]


def test_the_runner_knows_the_stack_deployed_fargate_for_dynamic_graphs(stack: StackSandbox) -> None:
    lam = stack.aws.client("lambda")
    runners = [f for f in lam.list_functions()["Functions"] if "Runner" in f["FunctionName"]]
    settings = [json.loads(r["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE]) for r in runners]
    # One runner per workflow, both of the one module. No task with an image in it: no image
    # function or image task definition either.
    assert (
        settings
        == [{"fargate": True, "batch_queues": {}, "image_functions": {}, "image_task_definitions": {}}] * 2
    )
    machines = stack.aws.client("stepfunctions").list_state_machines()["stateMachines"]
    assert {"Stratoflow-dynamic_stack-dynamic-interpreter", "Stratoflow-fanned-dynamic-interpreter"} <= {
        m["name"] for m in machines
    }
