"""Per-task images in the synthesized app of ``tests/images/image_flows.py`` (synthesized once per session).

Two workflows: ``TRAINER`` on Lambda and Fargate (so two platforms), the same spec written twice
(one image), ``REPORTER`` only in ``images_b``, a task without an image (the zip bundle) and a
prebuilt ECR image on Fargate.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.constructs import defaults
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow import ir
from stratoflow.backends import asl, image
from stratoflow.define import load_workflow
from stratoflow.ir import protocol
from stratoflow.lower import lower
from tests.images import image_flows
from tests.infra.synth import IMAGE_FLOWS, Synth
from tests.infra.test_stack import ALLOWED_CFN_LINT, _cfn_lint, _statements

WORKFLOWS = ("images_a", "images_b")


@pytest.fixture(scope="module")
def synth(image_assembly: Synth) -> Synth:
    return image_assembly


@pytest.fixture(scope="module")
def compiled() -> dict[str, asl.CompiledWorkflow]:
    return {name: asl.compile_workflow(lower(load_workflow(str(IMAGE_FLOWS), name))) for name in WORKFLOWS}


def _docker_assets(synth: Synth) -> dict[str, dict[str, Any]]:
    manifest = json.loads((synth.outdir / "StratoflowImages.assets.json").read_text())
    assets: dict[str, dict[str, Any]] = manifest["dockerImages"]
    return assets


def _asset_of(synth: Synth, tag: str, platform: str) -> str:
    """The asset hash of image ``tag`` for ``platform`` (read from its staged Dockerfile)."""
    found = [
        asset_hash
        for asset_hash, asset in _docker_assets(synth).items()
        if asset["source"]["platform"] == platform
        and f"tag {tag}." in (synth.outdir / asset["source"]["directory"] / "Dockerfile").read_text()
    ]
    assert len(found) == 1, (tag, platform, found)
    return found[0]


def _image_functions(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"]
        for k, v in synth.resources("AWS::Lambda::Function").items()
        if v["Properties"].get("PackageType") == "Image"
    }


def test_each_distinct_spec_and_platform_is_one_asset_with_its_own_hash(synth: Synth) -> None:
    trainer, reporter = image_flows.TRAINER.tag, image_flows.REPORTER.tag
    assert trainer != reporter
    assets = _docker_assets(synth)
    # TRAINER on Lambda (arm64) and Fargate (x86_64), REPORTER on Lambda; score's second copy of
    # TRAINER adds nothing, and the prebuilt image and the zip-bundled task need no asset.
    hashes = {
        (tag, platform): _asset_of(synth, tag, platform)
        for tag, platform in ((trainer, "linux/arm64"), (trainer, "linux/amd64"), (reporter, "linux/arm64"))
    }
    assert len(assets) == 3
    assert len(set(hashes.values())) == 3


def test_a_lambda_task_with_an_image_runs_on_a_container_image_function_of_its_image(
    synth: Synth, compiled: dict[str, asl.CompiledWorkflow]
) -> None:
    functions = _image_functions(synth)
    # One per workflow and image it uses on Lambda: TRAINER (prepare, score) in both, REPORTER in b's.
    assert len(functions) == 3
    for tag, users in ((image_flows.TRAINER.tag, 2), (image_flows.REPORTER.tag, 1)):
        found = [p for k, p in functions.items() if f"ImageRunner{tag}" in k]
        assert len(found) == users
        for props in found:
            assert props["Architectures"] == ["arm64"]
            assert "Handler" not in props and "Runtime" not in props
            assert props["ImageConfig"] == {
                "Command": list(image.LAMBDA_COMMAND),
                "EntryPoint": list(image.LAMBDA_ENTRYPOINT),
            }
            assert _asset_of(synth, tag, "linux/arm64") in json.dumps(props["Code"]["ImageUri"])
            assert props["Environment"]["Variables"]["STRATOFLOW_CACHE_TTL_DAYS"] == "30"
    # The ASL names the image's function, and the stack fills it with that workflow's function's ARN.
    prepare = compiled["images_a"].definition["States"]["prepare"]
    placeholder = protocol.image_function(image_flows.TRAINER.tag)
    assert prepare["Parameters"]["FunctionName"] == protocol.ref(placeholder)
    for workflow in WORKFLOWS:
        subs = _machine(synth, workflow)["DefinitionSubstitutions"]
        own = f"Runtime{pascal_case(workflow)}ImageRunner{image_flows.TRAINER.tag}Function"
        assert subs[placeholder]["Fn::GetAtt"][0].startswith(own)


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """State ``name`` wherever it is (inside Parallel branches too)."""
    states = definition.get("States", {})
    if name in states:
        found: dict[str, Any] = states[name]
        return found
    for state in states.values():
        for branch in state.get("Branches", []):
            try:
                return _state(branch, name)
            except KeyError:
                continue
    raise KeyError(name)


def _machine(synth: Synth, workflow: str) -> dict[str, Any]:
    pascal = "".join(part.capitalize() for part in workflow.split("_"))
    (props,) = [
        v["Properties"]
        for k, v in synth.resources("AWS::StepFunctions::StateMachine").items()
        if k.startswith(f"Workflow{pascal}StateMachine")
    ]
    return props


def test_the_task_without_an_image_keeps_the_zip_bundle(
    synth: Synth, compiled: dict[str, asl.CompiledWorkflow]
) -> None:
    total = _state(compiled["images_b"].definition, "total")
    assert total["Parameters"]["FunctionName"] == protocol.ref(protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN)
    runner = synth.runner_asset()
    # image_flows.py is in the tests package, so it is bundled (and imported) as tests.images.image_flows.
    assert (runner / "tests" / "images" / "image_flows.py").is_file()
    subs = _machine(synth, "images_b")["DefinitionSubstitutions"]
    assert subs["TaskRunnerFunctionArn"]["Fn::GetAtt"][0].startswith("RuntimeImagesBRunnerFunction")
    assert "TaskRunnerFunctionArn" not in _machine(synth, "images_a")["DefinitionSubstitutions"]


def test_each_fargate_task_definition_names_its_task_s_image(synth: Synth) -> None:
    definitions = synth.resources("AWS::ECS::TaskDefinition")
    by_image = {}
    for logical_id, resource in definitions.items():
        (container,) = resource["Properties"]["ContainerDefinitions"]
        by_image[logical_id] = json.dumps(container["Image"])
    # fit (TRAINER, 4 vCPU) in each workflow and audit (prebuilt, 0.25 vCPU) in b's: no shared image.
    assert len(by_image) == 3
    fits = [v for k, v in by_image.items() if f"img{image_flows.TRAINER.tag}" in k]
    assert len(fits) == 2
    assert all(_asset_of(synth, image_flows.TRAINER.tag, "linux/amd64") in fit for fit in fits)
    (audit,) = [v for k, v in by_image.items() if k.startswith("RuntimeImagesBTasksTaskDefcpu025mem512")]
    assert "/stratoflow-audit:1" in audit and "123456789012.dkr.ecr.us-east-1." in audit
    # The ASL runs exactly those task definitions.
    subs = _machine(synth, "images_b")["DefinitionSubstitutions"]
    names = [name for name in subs if protocol.is_task_definition(name)]
    tags = {protocol.split_image_shape(protocol.task_definition_shape(n))[1] for n in names}
    assert image_flows.audit.spec.image is not None
    assert tags == {image_flows.audit.spec.image.tag, image_flows.TRAINER.tag}


def test_each_staged_dockerfile_installs_exactly_its_packages_plus_the_runtime(synth: Synth) -> None:
    specs = {spec.tag: spec for spec in (image_flows.TRAINER, image_flows.REPORTER)}
    for asset in _docker_assets(synth).values():
        context = synth.outdir / asset["source"]["directory"]
        dockerfile = (context / "Dockerfile").read_text()
        (tag,) = [tag for tag in specs if f"tag {tag}." in dockerfile]
        spec = specs[tag]
        assert (context / "requirements" / "runtime.txt").read_text().split() == list(
            image.RUNTIME_REQUIREMENTS
        )
        assert sorted((context / "requirements" / "image.txt").read_text().split()) == sorted(spec.packages)
        assert not (context / "requirements" / "user.txt").exists()
        apt = [line for line in dockerfile.splitlines() if "apt-get install" in line]
        if spec.apt_packages:
            (line,) = apt
            installed = line.split("--no-install-recommends ", 1)[1].split(" && ", 1)[0].split()
            assert installed == list(spec.apt_packages)
        else:
            assert apt == []
        (pip,) = [line for line in dockerfile.splitlines() if line.startswith("RUN pip install")]
        assert pip.endswith("--requirement requirements/runtime.txt --requirement requirements/image.txt")
        assert f'{protocol.ENV_IMAGE}="{tag}"' in dockerfile
        for relative in (
            "stratoflow/__init__.py",
            "stratoflow_functions/task_runner.py",
            "tests/images/image_flows.py",
        ):
            assert (context / "app" / relative).is_file(), relative


def test_the_image_runtime_is_the_runner_s_plus_the_lambda_runtime_client() -> None:
    assert set(image.RUNTIME_REQUIREMENTS) - set(defaults.RUNNER_REQUIREMENTS) == {"awslambdaric==4.2.2"}
    assert set(defaults.RUNNER_REQUIREMENTS) <= set(image.RUNTIME_REQUIREMENTS)


def test_each_machine_invokes_only_the_image_functions_its_definition_names(synth: Synth) -> None:
    invoked: dict[str, list[str]] = {}
    for logical_id, statement in _statements(synth):
        if statement.get("Sid") == "InvokeImageRunners":
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            invoked[logical_id] = sorted(r["Fn::GetAtt"][0] for r in resources)
    a = [v for k, v in invoked.items() if k.startswith("WorkflowImagesA")]
    b = [v for k, v in invoked.items() if k.startswith("WorkflowImagesB")]
    trainer, reporter = image_flows.TRAINER.tag, image_flows.REPORTER.tag
    # Each invokes its own workflow's image functions only.
    a_own = f"RuntimeImagesAImageRunner{trainer}"
    assert len(a) == 1 and [f[: len(a_own)] for f in a[0]] == [a_own]
    assert len(b) == 1 and sorted(f.split("Function")[0] for f in b[0]) == sorted(
        [f"RuntimeImagesBImageRunner{trainer}", f"RuntimeImagesBImageRunner{reporter}"]
    )


def test_image_function_roles_get_the_runner_s_data_grants_only(synth: Synth) -> None:
    roles = [k for k in synth.resources("AWS::IAM::Role") if "ImageRunner" in k]
    assert len(roles) == 3
    for role in roles:
        actions = {
            action
            for logical_id, statement in _statements(synth)
            if any(ref.get("Ref") == role for ref in _policy_roles(synth, logical_id))
            for action in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            )
        }
        assert {"logs:PutLogEvents", "s3:GetObject", "dynamodb:GetItem"} <= actions, actions
        assert not any(action.startswith(("iam:", "lambda:", "ecs:")) for action in actions), actions


def _policy_roles(synth: Synth, policy_id: str) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = synth.template["Resources"][policy_id]["Properties"].get("Roles", [])
    return roles


def test_cdk_nag_found_nothing_unacknowledged(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    for suppressed in plugin["suppressedViolations"]:
        assert len(suppressed["reason"]) > 40, suppressed["acknowledgedId"]


def test_cfn_lint_passes(synth: Synth) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr
    unexpected = [f for f in json.loads(result.stdout or "[]") if f["Rule"]["Id"] not in ALLOWED_CFN_LINT]
    assert unexpected == []


def test_a_lambda_task_on_a_prebuilt_image_outside_ecr_is_a_clear_synth_error(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra.constructs import PropsError
    from infra.constructs.task_images import TaskImages

    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "S")
    images = TaskImages(stack, "Images", workflow_modules=[], cache_dir=tmp_path)
    with pytest.raises(
        PropsError, match=r"image ghcr.io/me/tool:1: a Lambda function runs images from a private ECR"
    ):
        images.lambda_code(ir.ImageRef(tag="ab" * 10, uri="ghcr.io/me/tool:1"), "arm64")


def test_batch_has_a_job_definition_per_image_and_shape(tmp_path: Path) -> None:
    import aws_cdk as cdk

    from infra.constructs import BatchCompute, BatchPool, BatchShape, PropsError
    from infra.constructs.task_images import TaskImages
    from infra.stacks.shapes import batch_shapes as _batch_shapes
    from infra.stacks.task_images import node_tasks
    from tests.compile.asl_cases import load_case
    from tests.infra.test_batch import _bare

    stack, vpc, group, role = _bare()
    images = TaskImages(stack, "Images", workflow_modules=[], cache_dir=tmp_path)
    spec = load_case("images")
    shapes = _batch_shapes(node_tasks([spec]), images)
    (shape,) = shapes  # tune: a GPU with the GPU ImageSpec
    gpu = spec.tasks["tune"].image
    assert gpu is not None
    assert protocol.split_image_shape(
        shape.placeholder.removeprefix(protocol.BATCH_JOB_DEFINITION_PREFIX)
    ) == (
        "vcpu1_mem2048_gpu1",
        gpu.tag,
    )
    plain = BatchShape("BatchJobDef_vcpu1_mem2048_gpu1", 1, 2048, 1)
    with pytest.raises(PropsError, match="image is required: some shapes have no image of their own"):
        BatchCompute(
            stack,
            "NoImage",
            pools=[BatchPool("gpu", ("g4dn",))],
            shapes=[shape, plain],
            vpc=vpc,
            security_group=group,
            image=None,
            environment={},
            job_role=role,
            execution_role=role,
        )
    BatchCompute(
        stack,
        "Batch",
        pools=[BatchPool("gpu", ("g4dn",))],
        shapes=[shape, plain],
        vpc=vpc,
        security_group=group,
        image=cdk.aws_ecs.ContainerImage.from_registry("me/shared:1"),
        environment={},
        job_role=role,
        execution_role=role,
    )
    definitions = cdk.assertions.Template.from_stack(stack).find_resources("AWS::Batch::JobDefinition")
    by_image = sorted(
        json.dumps(d["Properties"]["ContainerProperties"]["Image"]) for d in definitions.values()
    )
    assert len(by_image) == 2
    assert '"me/shared:1"' in by_image
    (own,) = [i for i in by_image if i != '"me/shared:1"']
    assert images.assets[(gpu.tag, "linux/amd64")].asset_hash in own
    dockerfile = (images.contexts[gpu.tag] / "Dockerfile").read_text()
    assert dockerfile.splitlines()[1] == "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04"
