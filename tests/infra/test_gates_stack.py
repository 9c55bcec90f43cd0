"""Gate and failure-handling workflows in the synthesized stack: cdk-nag and cfn-lint stay clean,
and the state machines may invoke the runner their waitForTaskToken gates call."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.app import build_app
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT

STACK = "StratoflowGates"
GATES = REPO / "tests" / "emulated" / "gate_flows.py"
FAILURES = REPO / "tests" / "emulated" / "failure_flows.py"


@pytest.fixture(scope="module")
def gate_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-gates")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [
            f"{GATES}:napping",
            f"{GATES}:asks",
            f"{GATES}:gated",
            f"{FAILURES}:reports",
            f"{FAILURES}:runs_to_completion",
        ],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def test_every_gate_and_failure_workflow_is_a_state_machine(gate_synth: Synth) -> None:
    machines = gate_synth.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 5
    definitions = json.dumps([m["Properties"]["DefinitionString"] for m in machines.values()])
    assert "lambda:invoke.waitForTaskToken" in definitions


def test_cdk_nag_found_nothing_unacknowledged(gate_synth: Synth) -> None:
    assert_nag_clean(gate_synth)


def test_cfn_lint_passes(gate_synth: Synth) -> None:
    assert_cfn_lint_clean(gate_synth, ALLOWED_CFN_LINT)
