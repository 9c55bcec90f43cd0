"""A stack whose @dynamic module also holds Fargate, Fargate Spot and GPU tasks: the interpreter
gets the generic task and job definitions, their grants, and the runner learns what exists.

Synthesized once, through ``build_app`` (cdk-nag runs), from ``tests/local/_dynamic_flows.py``
(the flows the emulated tests run); cfn-lint checks the template too.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.stacks.dynamic_compute import dynamic_routes
from infra.stacks.settings import _load
from stratoflow.backends import asl
from stratoflow.ir import protocol
from tests.infra.synth import REPO, Synth, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, _cfn_lint, _statements

FLOWS = REPO / "tests" / "local" / "_dynamic_flows.py"
STACK = "StratoflowDynamicCompute"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-dynamic-compute")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [f"{FLOWS}:heavy_flow"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _interpreter(synth: Synth) -> dict[str, Any]:
    (machine,) = [
        v
        for k, v in synth.resources("AWS::StepFunctions::StateMachine").items()
        if k.startswith("RuntimeHeavyFlowDynamicInterpreterStateMachine")
    ]
    return machine


def test_the_interpreter_has_container_states_and_their_substitutions(synth: Synth) -> None:
    props = _interpreter(synth)["Properties"]
    # No task with an image in the module: no image state.
    expected = json.dumps(asl.interpreter_definition(images=False), sort_keys=True, separators=(",", ":"))
    assert props["DefinitionString"] == expected
    assert set(props["DefinitionSubstitutions"]) == protocol.placeholders_in(expected)


def test_only_the_generic_definitions_serve_the_dynamic_graph(synth: Synth) -> None:
    # The workflow itself has one dynamic node: every container definition is the generic one.
    (task_def,) = synth.resources("AWS::ECS::TaskDefinition").values()
    assert (task_def["Properties"]["Cpu"], task_def["Properties"]["Memory"]) == ("256", "512")
    (job_def,) = synth.resources("AWS::Batch::JobDefinition").values()
    assert job_def["Properties"]["Type"] == "container"
    requirements = job_def["Properties"]["ContainerProperties"]["ResourceRequirements"]
    assert {"Type": "VCPU", "Value": "1"} in requirements  # overridden per job


def test_the_runner_learns_the_dynamic_compute(synth: Synth) -> None:
    (runner,) = [
        v
        for k, v in synth.resources("AWS::Lambda::Function").items()
        if k.startswith("RuntimeHeavyFlowRunnerFunction")
    ]
    setting = json.dumps(runner["Properties"]["Environment"]["Variables"][protocol.ENV_DYNAMIC_COMPUTE])
    assert '\\"fargate\\":true' in setting and "BatchQueue_gpu_ondemand" in setting
    assert "BatchQueue_gpu_spot" not in setting  # no interruptible GPU task in the module


def test_the_interpreter_role_runs_the_generic_task_and_submits_jobs(synth: Synth) -> None:
    sids = {
        s.get("Sid")
        for logical_id, s in _statements(synth)
        if logical_id.startswith("RuntimeHeavyFlowDynamicInterpreterRole")
    }
    assert {"RunTaskDefinitions", "PassTaskRoles", "SubmitBatchJobs", "StartItself"} <= sids


def test_dynamic_routes_come_from_the_module_of_a_workflow_with_a_dynamic_node() -> None:
    heavy = _load(f"{FLOWS}:heavy_flow")
    assert {t.name for t in heavy.module_tasks} >= {"big_square", "gpu_square", "fib", "heavy"}
    targets = {route.target for route in dynamic_routes([heavy])}
    assert targets == {"lambda", "fargate", "fargate_spot", "batch"}
    # Only a workflow with a dynamic node asks for dynamic compute (a Fargate node of its own
    # gets its own task definition, not the generic one).
    plain = _load(f"{REPO}/tests/compile/cases/fargate.py:fargate")
    assert {t.name for t in plain.module_tasks} == {"prepare", "train"}
    assert dynamic_routes([plain]) == []
    assert dynamic_routes([replace(heavy, spec=plain.spec)]) == []


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
