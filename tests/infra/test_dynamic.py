"""A stack whose workflow has a ``@dynamic`` node: one interpreter state machine and exactly its grants.

Synthesized once per module, in a bare App through ``build_app`` (so cdk-nag runs), from
the golden case ``tests/compile/cases/dynamic.py``; cfn-lint checks the template too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.constructs import DependencyBundling, PropsError, TaskFunction, WorkflowStateMachine
from infra.constructs.dynamic_interpreter import interpreter_json
from stratoflow.backends import asl
from stratoflow.define import load_workflow
from stratoflow.ir import protocol
from stratoflow.lower import lower
from tests.infra.synth import REPO, Synth, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, RESOURCE_STAR_ACTIONS, _as_list, _cfn_lint, _statements

CASE = REPO / "tests" / "compile" / "cases" / "dynamic.py"
STACK = "StratoflowDynamic"
EVENTS_RULE = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"


@pytest.fixture(scope="module")
def compiled() -> asl.CompiledWorkflow:
    return asl.compile_workflow(lower(load_workflow(str(CASE), "dynamic_flow")))


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-dynamic")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [f"{CASE}:dynamic_flow"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _machines(synth: Synth, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (k, v) for k, v in synth.resources("AWS::StepFunctions::StateMachine").items() if k.startswith(prefix)
    ]


def _one_machine(synth: Synth, prefix: str) -> tuple[str, dict[str, Any]]:
    (item,) = _machines(synth, prefix)
    return item


def _role_statements(synth: Synth, prefix: str) -> list[dict[str, Any]]:
    return [s for logical_id, s in _statements(synth) if logical_id.startswith(prefix)]


def _runner_arn(synth: Synth) -> dict[str, Any]:
    (function_id,) = [
        k
        for k in synth.resources("AWS::Lambda::Function")
        if k.startswith("RuntimeDynamicFlowRunnerFunction")
    ]
    return {"Fn::GetAtt": [function_id, "Arn"]}


def test_one_interpreter_with_the_compiled_definition(synth: Synth) -> None:
    assert len(synth.resources("AWS::StepFunctions::StateMachine")) == 2  # the workflow + the interpreter
    _, machine = _one_machine(synth, "RuntimeDynamicFlowDynamicInterpreterStateMachine")
    props = machine["Properties"]
    # Lambda-only tasks without images in the module: no container or image states, so no VPC.
    expected = json.dumps(
        asl.interpreter_definition(fargate=False, batch=False, images=False),
        sort_keys=True,
        separators=(",", ":"),
    )
    assert props["DefinitionString"] == expected == interpreter_json()
    assert props["StateMachineName"] == f"{STACK}-dynamic_flow-dynamic-interpreter"  # one per workflow
    assert not synth.resources("AWS::ECS::TaskDefinition")
    # The data bucket: a map node's Distributed Map reads its item list (ItemReader).
    bucket = next(b for b in synth.resources("AWS::S3::Bucket") if b.startswith("PayloadBucket"))
    assert props["DefinitionSubstitutions"] == {
        "TaskRunnerFunctionArn": _runner_arn(synth),
        "DataBucket": {"Ref": bucket},
    }
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_interpreter_role_invokes_the_runner_and_starts_itself(synth: Synth) -> None:
    _, machine = _one_machine(synth, "RuntimeDynamicFlowDynamicInterpreterStateMachine")
    assert machine["Properties"]["RoleArn"]["Fn::GetAtt"][0].startswith(
        "RuntimeDynamicFlowDynamicInterpreterRole"
    )
    statements = _role_statements(synth, "RuntimeDynamicFlowDynamicInterpreterRole")
    by_sid = {s["Sid"]: s for s in statements if s["Resource"] != "*"}
    assert sorted(by_sid) == [
        "InvokeRunner",
        "ManageOwnExecutions",
        "ReadMapItems",
        "StartItself",
        "SyncExecutionEventsRule",
    ]
    assert by_sid["ReadMapItems"]["Action"] == "s3:GetObject"
    # Only its workflow's runs.
    assert f"/{protocol.workflow_runs_prefix('dynamic_flow')}*" in json.dumps(
        by_sid["ReadMapItems"]["Resource"]
    )
    assert by_sid["InvokeRunner"]["Resource"] == _runner_arn(synth)
    # Its own ARN from the fixed name, not a Ref to the machine (which would be a cycle).
    start = json.dumps(by_sid["StartItself"]["Resource"])
    name = f"{STACK}-dynamic_flow-dynamic-interpreter"
    assert f":stateMachine:{name}" in start and 'Ref": "RuntimeDynamicFlowDynamicInterpreter' not in start
    own = json.dumps(by_sid["ManageOwnExecutions"]["Resource"])
    # Nested @dynamic and map-runner executions, and the map runners' Distributed Map children.
    assert f":execution:{name}:*" in own
    assert f":execution:{name}/*" in own
    for statement in statements:
        if statement["Resource"] == "*":
            assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ACTIONS


def test_workflow_substitutes_the_interpreter(synth: Synth, compiled: asl.CompiledWorkflow) -> None:
    interpreter_id, _ = _one_machine(synth, "RuntimeDynamicFlowDynamicInterpreterStateMachine")
    _, machine = _one_machine(synth, "WorkflowDynamicFlowStateMachine")
    props = machine["Properties"]
    assert "${DynamicInterpreterArn}" in compiled.deployed_json()
    assert props["DefinitionString"] == compiled.deployed_json()
    assert sorted(props["DefinitionSubstitutions"]) == list(compiled.placeholders)
    assert props["DefinitionSubstitutions"]["DynamicInterpreterArn"] == {"Ref": interpreter_id}
    assert props["DefinitionSubstitutions"]["TaskRunnerFunctionArn"] == _runner_arn(synth)


def test_workflow_role_starts_watches_and_stops_interpreter_executions(synth: Synth) -> None:
    interpreter_id, _ = _one_machine(synth, "RuntimeDynamicFlowDynamicInterpreterStateMachine")
    statements = [s for s in _role_statements(synth, "WorkflowDynamicFlowRole") if s["Resource"] != "*"]
    by_sid = {s["Sid"]: s for s in statements}
    assert sorted(by_sid) == [
        "InvokeRunner",
        "ManageInterpreterExecutions",
        "StartInterpreter",
        "SyncExecutionEventsRule",
    ]
    assert by_sid["InvokeRunner"]["Action"] == "lambda:InvokeFunction"
    assert by_sid["InvokeRunner"]["Resource"] == _runner_arn(synth)
    assert by_sid["StartInterpreter"]["Action"] == "states:StartExecution"
    assert by_sid["StartInterpreter"]["Resource"] == {"Ref": interpreter_id}
    assert by_sid["ManageInterpreterExecutions"]["Action"] == [
        "states:DescribeExecution",
        "states:StopExecution",
    ]
    assert by_sid["ManageInterpreterExecutions"]["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":execution:",
                {"Fn::GetAtt": [interpreter_id, "Name"]},
                ":*",
            ],
        ]
    }
    assert by_sid["SyncExecutionEventsRule"]["Action"] == [
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    ]
    assert by_sid["SyncExecutionEventsRule"]["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":events:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{EVENTS_RULE}",
            ],
        ]
    }


def test_runner_role_reads_and_writes_dynamic_specs(synth: Synth) -> None:
    (bucket_id,) = [k for k in synth.resources("AWS::S3::Bucket") if k.startswith("PayloadBucket")]
    by_sid = {s.get("Sid"): s for s in _role_statements(synth, "RuntimeDynamicFlowRunnerRole")}
    assert by_sid["ReadWriteDynamicSpecs"] == {
        "Sid": "ReadWriteDynamicSpecs",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/dynamic-specs/dynamic_flow/*"]]},
    }


def test_no_wildcard_actions(synth: Synth) -> None:
    for logical_id, statement in _statements(synth):
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), (logical_id, actions)
        if "*" in _as_list(statement["Resource"]):
            assert set(actions) <= RESOURCE_STAR_ACTIONS, (logical_id, actions)


def test_cdk_nag_found_nothing_unacknowledged(synth: Synth) -> None:
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    acknowledged = {s["acknowledgedId"] for s in plugin["suppressedViolations"]}
    assert any("/dynamic-specs/dynamic_flow/*" in a for a in acknowledged)
    assert any(":execution:<RuntimeDynamicFlowDynamicInterpreterStateMachine" in a for a in acknowledged)


def test_cfn_lint_passes(synth: Synth) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["Rule"]["Id"] not in ALLOWED_CFN_LINT] == []


def test_workflow_state_machine_needs_the_interpreter(
    compiled: asl.CompiledWorkflow, bundle_cache: Path
) -> None:
    stack = cdk.Stack(cdk.App())
    runner = TaskFunction(
        stack,
        "Runner",
        workflow_modules=[CASE],
        environment={},
        dependencies=DependencyBundling.FAKE_FOR_TESTS,
        cache_dir=bundle_cache,
    )
    with pytest.raises(PropsError) as caught:
        WorkflowStateMachine(
            stack, "Dynamic", compiled=compiled, runner=runner.function, bucket=s3.Bucket(stack, "Bucket")
        )
    (unfilled,) = caught.value.problems
    assert "DynamicInterpreterArn" in unfilled
    assert "interpreter=DynamicInterpreter(...)" in unfilled
    assert "FargateCompute" not in unfilled
    assert Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine") == {}
