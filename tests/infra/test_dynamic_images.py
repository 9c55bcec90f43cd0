"""A stack whose ``@dynamic`` module holds a Lambda task with an image of its own: each such workflow
gets that image's function, its interpreter may invoke exactly its own workflow's image functions,
the runner learns their ARNs and the image function the tags (no ARN: a cycle otherwise).

Synthesized once, through ``build_app`` (cdk-nag runs), from ``tests/emulated/dynamic_image_flows.py``
(the flows the emulated test runs) plus ``images_a`` (a workflow without a dynamic node whose image
function the interpreters must not reach); cfn-lint checks the template too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.constructs.dynamic_interpreter import interpreter_json
from stratoflow.ir import protocol
from tests.emulated import dynamic_image_flows as flows
from tests.infra.synth import IMAGE_FLOWS, REPO, Synth, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, _as_list, _cfn_lint, _statements

FLOWS = REPO / "tests" / "emulated" / "dynamic_image_flows.py"
STACK = "StratoflowDynamicImages"
DYNAMIC = {
    "dynamic_images": "DynamicImages",
    "dynamic_in_image": "DynamicInImage",
    "dynamic_elsewhere": "DynamicElsewhere",
    "dynamic_on_fargate": "DynamicOnFargate",
}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-dynamic-images")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [*(f"{FLOWS}:{name}" for name in DYNAMIC), f"{IMAGE_FLOWS}:images_a"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _functions(synth: Synth, prefix: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in synth.resources("AWS::Lambda::Function").items() if k.startswith(prefix)}


def _image_function(synth: Synth, pascal: str, tag: str) -> str:
    (logical_id,) = _functions(synth, f"Runtime{pascal}ImageRunner{tag}")
    return logical_id


def _invokable(synth: Synth, pascal: str) -> list[Any]:
    """Every resource ``lambda:InvokeFunction`` is granted on in the workflow's interpreter role."""
    return [
        resource
        for logical_id, statement in _statements(synth)
        if logical_id.startswith(f"Runtime{pascal}DynamicInterpreterRole")
        and "lambda:InvokeFunction" in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]


@pytest.mark.parametrize("workflow", sorted(DYNAMIC))
def test_the_interpreter_invokes_exactly_its_runner_and_its_workflows_image_functions(
    synth: Synth, workflow: str
) -> None:
    pascal = DYNAMIC[workflow]
    (runner,) = _functions(synth, f"Runtime{pascal}RunnerFunction")
    image = _image_function(synth, pascal, flows.SCALER.tag)
    assert sorted(json.dumps(r, sort_keys=True) for r in _invokable(synth, pascal)) == sorted(
        json.dumps({"Fn::GetAtt": [name, "Arn"]}, sort_keys=True) for name in (runner, image)
    )
    by_sid = {
        s.get("Sid"): s
        for logical_id, s in _statements(synth)
        if logical_id.startswith(f"Runtime{pascal}DynamicInterpreterRole")
    }
    assert by_sid["InvokeImageFunctions"]["Resource"] == {"Fn::GetAtt": [image, "Arn"]}


def test_no_interpreter_reaches_another_workflows_image_function(synth: Synth) -> None:
    # images_a has no dynamic node (no interpreter) and TRAINER's function is its own.
    trainer = _image_function(synth, "ImagesA", flows.elsewhere.TRAINER.tag)
    reached = json.dumps([_invokable(synth, pascal) for pascal in DYNAMIC.values()])
    assert trainer not in reached
    assert not [k for k in synth.resources("AWS::StepFunctions::StateMachine") if "ImagesADynamic" in k]
    # REPORTER (another module's task) has no function anywhere: the stack never scanned it.
    assert not [k for k in synth.resources("AWS::Lambda::Function") if flows.elsewhere.REPORTER.tag in k]


def test_the_interpreter_has_the_image_state(synth: Synth) -> None:
    (machine,) = [
        v
        for k, v in synth.resources("AWS::StepFunctions::StateMachine").items()
        if k.startswith("RuntimeDynamicImagesDynamicInterpreterStateMachine")
    ]
    props = machine["Properties"]
    assert props["DefinitionString"] == interpreter_json(fargate=True, images=True)
    assert set(props["DefinitionSubstitutions"]) == protocol.placeholders_in(props["DefinitionString"])


def test_the_runner_holds_the_arns_and_the_image_function_the_tags(synth: Synth) -> None:
    ((_, runner),) = _functions(synth, "RuntimeDynamicImagesRunnerFunction").items()
    image = _image_function(synth, "DynamicImages", flows.SCALER.tag)
    setting = json.dumps(runner["Properties"]["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE])
    assert flows.SCALER.tag in setting and image in setting  # the ARN: a GetAtt CloudFormation joins in
    imaged = _functions(synth, image)[image]["Properties"]["Environment"]["Variables"]
    held = json.dumps(imaged[protocol.ENV_DYNAMIC_COMPUTE])
    # The tags only: the function's environment never names its own ARN (a cycle); the task
    # definitions' ARNs it may hold (they name no function).
    assert '\\"image_functions\\":{\\"' + flows.SCALER.tag + '\\":\\"\\"}' in held
    assert image not in held


def _image_task_definition(synth: Synth, pascal: str) -> str:
    shape = protocol.task_definition_shape(protocol.dynamic_task_definition(flows.SCALER.tag)).replace(
        "_", ""
    )
    (logical_id,) = [
        k
        for k in synth.resources("AWS::ECS::TaskDefinition")
        if k.startswith(f"Runtime{pascal}TasksTaskDef{shape}")
    ]
    return logical_id


@pytest.mark.parametrize("workflow", sorted(DYNAMIC))
def test_the_interpreter_runs_exactly_the_generic_and_its_images_task_definitions(
    synth: Synth, workflow: str
) -> None:
    pascal = DYNAMIC[workflow]
    image = _image_task_definition(synth, pascal)
    definition = synth.resources("AWS::ECS::TaskDefinition")[image]["Properties"]
    assert (definition["Cpu"], definition["Memory"]) == ("256", "512")  # overridden per node
    # Built from SCALER's asset, not the shared image.
    (container,) = definition["ContainerDefinitions"]
    generic = next(
        v
        for k, v in synth.resources("AWS::ECS::TaskDefinition").items()
        if k.startswith(f"Runtime{pascal}TasksTaskDefdynamic") and k != image
    )
    assert container["Image"] != generic["Properties"]["ContainerDefinitions"][0]["Image"]
    (run,) = [
        s
        for logical_id, s in _statements(synth)
        if logical_id.startswith(f"Runtime{pascal}DynamicInterpreterRole")
        and s.get("Sid") == "RunTaskDefinitions"
    ]
    assert sorted(r["Ref"] for r in _as_list(run["Resource"])) == sorted(
        [image, generic_id(synth, pascal, image)]
    )
    # The runner learns the ARN (a Ref CloudFormation joins into its JSON).
    ((_, runner),) = _functions(synth, f"Runtime{pascal}RunnerFunction").items()
    assert image in json.dumps(runner["Properties"]["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE])


def generic_id(synth: Synth, pascal: str, image: str) -> str:
    (logical_id,) = [
        k
        for k in synth.resources("AWS::ECS::TaskDefinition")
        if k.startswith(f"Runtime{pascal}TasksTaskDefdynamic") and k != image
    ]
    return logical_id


def test_cdk_nag_and_cfn_lint_pass(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["violations"] == []
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr
    assert [f for f in json.loads(result.stdout or "[]") if f["Rule"]["Id"] not in ALLOWED_CFN_LINT] == []
