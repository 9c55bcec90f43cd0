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
    context = {**TEST_CONTEXT, "stratoflow:workflows": [f"{FLOWS}:dynamic_stack"]}
    with StackSandbox(project_dir=REPO, context=context) as deployed:
        yield deployed


def test_recursive_dynamic_with_a_fargate_task_matches_the_local_run(
    stack: StackSandbox, tmp_path: Path
) -> None:
    spec = lower(load_workflow(str(FLOWS), "dynamic_stack"))
    local = run_local(spec, {"n": 5}, RunOptions(home=tmp_path, progress=False)).outputs
    assert stack.run(spec, {"n": 5}).outputs() == local == {"o0": 25 + 5}
    assert stack.aws.runtime_errors() == []


def test_the_runner_knows_the_stack_deployed_fargate_for_dynamic_graphs(stack: StackSandbox) -> None:
    lam = stack.aws.client("lambda")
    (runner,) = [f for f in lam.list_functions()["Functions"] if "Runner" in f["FunctionName"]]
    setting = runner["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE]
    # No task with an image in the module: no image function or image task definition either.
    assert json.loads(setting) == {
        "fargate": True,
        "batch_queues": {},
        "image_functions": {},
        "image_task_definitions": {},
    }
    machines = stack.aws.client("stepfunctions").list_state_machines()["stateMachines"]
    assert "Stratoflow-dynamic_stack-dynamic-interpreter" in {m["name"] for m in machines}
