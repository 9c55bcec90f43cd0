"""Workflows with per-task images, in emulated AWS: the ``Sandbox`` (placeholders filled by it) and
the synthesized image app deployed into moto's CloudFormation. Image functions are
``PackageType: Image`` functions that run the same in-process runner as the zip one."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox, _sandbox
from stratoflow.testing._sandbox import Sandbox
from tests.images import image_flows
from tests.infra.synth import IMAGE_FLOWS

pytestmark = pytest.mark.emulated

needs_cdk = pytest.mark.skipif(
    importlib.util.find_spec("aws_cdk") is None, reason="synthesizing the app needs the cdk extra"
)


@pytest.fixture(scope="module")
def calls() -> dict[str, list[str]]:
    return {}


@pytest.fixture(scope="module")
def sandbox(calls: dict[str, list[str]]) -> Iterator[Sandbox]:
    """A sandbox whose image functions record which nodes each ran (then run the real runner)."""
    real = _sandbox.task_runner_handler

    def counting() -> Any:
        handler = real()
        mine: list[str] = []
        calls[f"function-{len(calls)}"] = mine

        def run(event: dict[str, Any], context: Any) -> Any:
            mine.append(event["node"])
            return handler(event, context)

        return run

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(_sandbox, "task_runner_handler", counting)
    try:
        with Sandbox() as stack:
            yield stack
    finally:
        monkeypatch.undo()


def _local(spec: Any, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    return run_local(spec, inputs, RunOptions(home=home, progress=False)).outputs


def test_image_tasks_run_on_their_image_functions_and_match_the_local_run(
    sandbox: Sandbox, calls: dict[str, list[str]], tmp_path: Path
) -> None:
    spec = lower(image_flows.images_b)
    local = _local(spec, {"n": 4}, tmp_path)
    emulated = sandbox.run(spec, {"n": 4}).outputs()
    assert emulated == local == {"o0": "FIT=6 SCORE=14"}
    # TRAINER's function ran prepare and the score map's batches, REPORTER's ran report;
    # total (no image) ran on the shared runner, fit and audit in containers.
    ran = sorted(sorted(set(nodes)) for nodes in calls.values())
    assert ran == [["map_score", "prepare"], ["report"]]
    lambda_client = sandbox.aws.client("lambda")
    images = [
        f
        for f in lambda_client.list_functions()["Functions"]
        if f["FunctionName"].startswith("stratoflow-task-runner-")
    ]
    assert sorted(f["FunctionName"].rsplit("-", 1)[1] for f in images) == sorted(
        [image_flows.TRAINER.tag, image_flows.REPORTER.tag]
    )
    assert {f["PackageType"] for f in images} == {"Image"}


def test_a_fargate_image_task_runs_in_its_own_task_definition(sandbox: Sandbox) -> None:
    spec = lower(image_flows.images_a)
    assert sandbox.run(spec, {"n": 5}).outputs() == {"o0": 10}
    families = sandbox.aws.client("ecs").list_task_definition_families()["families"]
    assert f"stratoflow-cpu4-mem16384-img{image_flows.TRAINER.tag}" in families


def test_a_missing_module_reads_the_same_locally_and_in_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(image_flows.missing_module)
    with pytest.raises(TaskFailedError) as local:
        _local(spec, {"x": 1}, tmp_path)
    with pytest.raises(TaskFailedError) as emulated:
        sandbox.run(spec, {"x": 1})
    expected = (
        "task 'needs_module' needs module 'stratoflow_no_such_module', which is not installed; its ImageSpec "
        "'needs-a-module' (packages: stratoflow-no-such-package==1.0) must provide it"
    )
    assert expected in str(local.value)
    assert expected in str(emulated.value)


@pytest.fixture(scope="module")
def stack(image_assembly: Any) -> Iterator[StackSandbox]:
    with StackSandbox(template_dir=image_assembly.outdir, stack_name="StratoflowImages") as deployed:
        yield deployed


@needs_cdk
def test_the_synthesized_image_app_runs_in_emulated_cloudformation(
    stack: StackSandbox, tmp_path: Path
) -> None:
    functions = stack.deployment.image_functions
    # Each workflow has its own: images_a's of its one image, images_b's of its two.
    assert len(functions) == 3
    lambda_client = stack.aws.client("lambda")
    for name in functions:
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        assert configuration["PackageType"] == "Image"
    spec = lower(load_workflow(str(IMAGE_FLOWS), "images_b"))  # the refs the stack's IR names
    local = _local(spec, {"n": 3}, tmp_path)
    assert stack.run(spec, {"n": 3}).outputs() == local == {"o0": "FIT=3 SCORE=5"}
