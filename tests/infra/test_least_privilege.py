"""Least privilege per workflow (issue 9, item 4), proven on the synthesized templates.

Each workflow's roles (its runner and image functions, its Fargate/Batch task role, its actor
workers, its ``@dynamic`` interpreter) may write only that workflow's ``runs/<workflow>/``
objects, the shared content-addressed blobs, its own ``dynamic-specs/<workflow>/`` and cache
items whose key leads with ``<workflow>/``; each workflow's state machine may invoke, run and
start only its own functions, task and job definitions, queues and interpreter. moto enforces
no IAM, so the proof is the template, read by ``iam_eval`` (an evaluator of the statements as
IAM evaluates them) on two apps: cdk.json's (Lambda, Fargate, an image function, actors, an S3
trigger) and one with a ``@dynamic`` workflow beside a Batch one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow.ir import protocol
from tests.infra.iam_eval import Policies, Request
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT

CASES = REPO / "tests" / "compile" / "cases"
STACK = "StratoflowIsolation"
MAIN_WORKFLOWS = ("sales_report", "features", "training", "digits")
ISOLATION_WORKFLOWS = ("dynamic_flow", "batch")
# Writes a task role could make: every S3 and DynamoDB action that changes data.
S3_WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:RestoreObject")
TABLE_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


@pytest.fixture(scope="module")
def isolation(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-isolation")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [f"{CASES / 'dynamic.py'}:dynamic_flow", f"{CASES / 'batch.py'}:batch"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


@pytest.fixture(params=["main", "isolation"])
def app(request: pytest.FixtureRequest) -> tuple[Synth, tuple[str, ...]]:
    if request.param == "main":
        return request.getfixturevalue("synth"), MAIN_WORKFLOWS
    return request.getfixturevalue("isolation"), ISOLATION_WORKFLOWS


def _one(synth: Synth, type_: str, prefix: str) -> str:
    (found,) = [k for k in synth.resources(type_) if k.startswith(prefix)]
    return found


def _runtime_roles(synth: Synth, workflow: str) -> list[str]:
    """The roles that run the workflow's code (its runtime's), not its state machine's."""
    prefix = f"Runtime{pascal_case(workflow)}"
    return sorted(k for k in synth.resources("AWS::IAM::Role") if k.startswith(prefix))


def _bucket(synth: Synth) -> str:
    return _one(synth, "AWS::S3::Bucket", "PayloadBucket")


def _object(synth: Synth, key: str) -> str:
    return f"<{_bucket(synth)}.Arn>/{key}"


def _table(synth: Synth) -> str:
    return f"<{_one(synth, 'AWS::DynamoDB::Table', 'CacheTable')}.Arn>"


def _role_of(synth: Synth, resource: str, prop: str) -> str:
    arn = synth.template["Resources"][resource]["Properties"][prop]
    return str(arn["Fn::GetAtt"][0])


def _keys(workflow: str) -> dict[str, str]:
    """One key of each kind a run of ``workflow`` writes (through the protocol's layout)."""
    return {
        "inputs": protocol.inputs_key(workflow, "r1"),
        "outputs": protocol.node_outputs_key(workflow, "r1", "n"),
        "map results": protocol.map_results_key(workflow, "r1", "m", 0),
        "checkpoint": protocol.checkpoint_key(workflow, "r1", "n", 1),
        "signal": protocol.signal_key(workflow, "r1", "go"),
        "sub-spec": protocol.dynamic_spec_key(workflow, "sub", b"{}"),
    }


def test_every_workflow_has_its_own_runtime_roles(app: tuple[Synth, tuple[str, ...]]) -> None:
    synth, workflows = app
    roles = {w: _runtime_roles(synth, w) for w in workflows}
    assert all(roles.values()), roles
    # A role serves one workflow: no role belongs to two runtimes.
    owned = [role for listed in roles.values() for role in listed]
    assert len(owned) == len(set(owned))
    # Every function of a workflow's runtime runs as a role of that runtime.
    for name in synth.resources("AWS::Lambda::Function"):
        if name.startswith("Runtime"):
            role = _role_of(synth, name, "Role")
            assert any(role in roles[w] and name.startswith(f"Runtime{pascal_case(w)}") for w in workflows), (
                name
            )


def test_a_workflow_s_roles_write_only_its_own_runs_and_the_blobs(app: tuple[Synth, tuple[str, ...]]) -> None:
    synth, workflows = app
    policies = Policies(synth.template)
    blob = _object(synth, protocol.blob_key("ab" * 32))
    for workflow in workflows:
        others = [w for w in workflows if w != workflow]
        for role in _runtime_roles(synth, workflow):
            writes = {p for action in S3_WRITES for p in policies.granted(role, action)}
            allowed = {
                _object(synth, f"{protocol.workflow_runs_prefix(workflow)}*"),
                _object(synth, f"{protocol.BLOBS_PREFIX}*"),
                _object(synth, f"{protocol.dynamic_specs_prefix(workflow)}*"),
            }
            assert writes <= allowed, (role, writes - allowed)
            if not writes:
                continue  # the interpreter's role: it reads map items, writes nothing
            assert policies.allows(role, Request("s3:PutObject", blob)), role
            for what, key in _keys(workflow).items():
                if what == "sub-spec" and not any(
                    p.endswith("dynamic-specs/" + workflow + "/*") for p in writes
                ):
                    continue
                assert policies.allows(role, Request("s3:PutObject", _object(synth, key))), (role, what)
            for other in others:
                for what, key in _keys(other).items():
                    for action in ("s3:PutObject", "s3:GetObject"):
                        request = Request(action, _object(synth, key))
                        assert not policies.allows(role, request), (role, action, other, what)
            # The deployment writes the specs; no task may.
            spec = _object(synth, protocol.spec_key(workflow, b"{}"))
            assert not policies.allows(role, Request("s3:PutObject", spec)), role


def test_a_workflow_s_roles_write_only_its_own_cache_items(app: tuple[Synth, tuple[str, ...]]) -> None:
    synth, workflows = app
    policies = Policies(synth.template)
    table = _table(synth)
    for workflow in workflows:
        own = protocol.cache_item_key(workflow, "0" * 64)
        lock = protocol.cache_item_key(workflow, f"{protocol.ACTOR_LOCK_PREFIX}env")
        for role in _runtime_roles(synth, workflow):
            for statement in policies.statements(role):
                if statement.effect == "Allow" and any(a.startswith("dynamodb:") for a in statement.actions):
                    # Every cache grant carries the workflow's leading-key condition, and only it.
                    assert statement.conditions == {
                        "ForAllValues:StringLike": {
                            "dynamodb:LeadingKeys": [protocol.cache_items_pattern(workflow)]
                        }
                    }, (role, statement)
            if not any(policies.granted(role, "dynamodb:PutItem")):
                continue
            for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
                assert policies.allows(role, Request(action, table, (own,))), (role, action)
                assert policies.allows(role, Request(action, table, (lock,))), (role, action)
            for other in workflows:
                if other == workflow:
                    continue
                theirs = protocol.cache_item_key(other, "0" * 64)
                for action in (*TABLE_WRITES, "dynamodb:GetItem"):
                    assert not policies.allows(role, Request(action, table, (theirs,))), (role, action, other)
            # A key without the workflow (the pre-isolation layout) is no one's.
            assert not policies.allows(role, Request("dynamodb:PutItem", table, ("0" * 64,))), role
            assert not policies.allows(role, Request("dynamodb:Scan", table)), role


def _functions_of(synth: Synth, workflow: str) -> list[str]:
    prefix = f"Runtime{pascal_case(workflow)}"
    return [f"<{k}.Arn>" for k in synth.resources("AWS::Lambda::Function") if k.startswith(prefix)]


def test_a_workflow_s_state_machine_invokes_and_runs_only_its_own(app: tuple[Synth, tuple[str, ...]]) -> None:
    synth, workflows = app
    policies = Policies(synth.template)
    machines = synth.resources("AWS::StepFunctions::StateMachine")
    for workflow in workflows:
        prefix = pascal_case(workflow)
        machine = _one(synth, "AWS::StepFunctions::StateMachine", f"Workflow{prefix}")
        role = _role_of(synth, machine, "RoleArn")
        own = _functions_of(synth, workflow)
        assert own
        invoked = set(policies.granted(role, "lambda:InvokeFunction"))
        assert invoked and invoked <= set(own), (workflow, invoked)
        for other in workflows:
            if other == workflow:
                continue
            for function in _functions_of(synth, other):
                assert not policies.allows(role, Request("lambda:InvokeFunction", function)), (
                    workflow,
                    other,
                )
        # Task definitions, job definitions, queues and interpreters: its runtime's only.
        runs = [*policies.granted(role, "ecs:RunTask"), *policies.granted(role, "batch:SubmitJob")]
        for arn in runs:
            assert arn.startswith(f"<Runtime{prefix}") or "Queue" in arn, (workflow, arn)
        for arn in policies.granted(role, "sqs:SendMessage"):
            assert arn.startswith(f"<Runtime{prefix}"), (workflow, arn)
        interpreters = [k for k in machines if k.startswith("Runtime") and "DynamicInterpreter" in k]
        for other_machine in interpreters:
            name = synth.template["Resources"][other_machine]["Properties"].get("StateMachineName", "")
            arns = [
                f"<{other_machine}>",  # Ref: the ARN
                f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:{name}",
            ]
            mine = other_machine.startswith(f"Runtime{prefix}")
            started = any(policies.allows(role, Request("states:StartExecution", arn)) for arn in arns)
            assert started is mine, (workflow, other_machine)


def test_an_interpreter_invokes_only_its_workflow_s_runner(isolation: Synth) -> None:
    policies = Policies(isolation.template)
    (machine,) = [
        k for k in isolation.resources("AWS::StepFunctions::StateMachine") if "DynamicInterpreter" in k
    ]
    assert machine.startswith("RuntimeDynamicFlow")
    role = _role_of(isolation, machine, "RoleArn")
    assert set(policies.granted(role, "lambda:InvokeFunction")) <= set(
        _functions_of(isolation, "dynamic_flow")
    )
    for function in _functions_of(isolation, "batch"):
        assert not policies.allows(role, Request("lambda:InvokeFunction", function))
    items = _object(isolation, protocol.map_items_key("dynamic_flow", "r1.squares", "m"))
    assert policies.allows(role, Request("s3:GetObject", items))
    other = _object(isolation, protocol.map_items_key("batch", "r1", "m"))
    assert not policies.allows(role, Request("s3:GetObject", other))


def test_the_evaluator_is_not_vacuous() -> None:
    # A role granted everything is allowed a cross-workflow write; a leading-key condition is evaluated.
    template: dict[str, Any] = {
        "Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {}},
            "P": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "R"}],
                    "PolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                            {
                                "Effect": "Allow",
                                "Action": "dynamodb:PutItem",
                                "Resource": "T",
                                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["a/*"]}},
                            },
                            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
                        ]
                    },
                },
            },
        }
    }
    policies = Policies(template)
    assert policies.allows("R", Request("s3:PutObject", "<B.Arn>/runs/other/r/inputs.json"))
    assert not policies.allows("R", Request("s3:DeleteObject", "<B.Arn>/runs/a/r/inputs.json"))
    assert policies.allows("R", Request("dynamodb:PutItem", "T", ("a/k",)))
    assert not policies.allows("R", Request("dynamodb:PutItem", "T", ("ab/k",)))
    assert not policies.allows("R", Request("dynamodb:PutItem", "T", ("a/k", "b/k")))


def test_the_isolation_app_is_nag_and_cfn_lint_clean(isolation: Synth) -> None:
    assert_nag_clean(isolation)
    assert_cfn_lint_clean(isolation, ALLOWED_CFN_LINT)
