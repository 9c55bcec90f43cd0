"""S3 triggers in the synthesized stack (sales_report: incoming/*.csv) and ``TriggerStarter`` on its own."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Match, Template

from infra.constructs import PayloadBucket, PropsError, TriggeredWorkflow, TriggerStarter
from infra.constructs.trigger_starter import key_filter
from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.client import TriggerSettings
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from tests.infra.synth import REPO, Synth

BUCKET = {"Ref": Match.string_like_regexp("^PayloadBucket")}
BUCKET_ARN = {"Fn::GetAtt": [Match.string_like_regexp("^PayloadBucket"), "Arn"]}


def _one(synth: Synth, type_: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
    (item,) = [(k, v) for k, v in synth.resources(type_).items() if k.startswith(prefix)]
    return item


def _objects(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [BUCKET_ARN, suffix]]}


def test_bucket_sends_its_events_to_eventbridge(synth: Synth) -> None:
    template = Template.from_json(synth.template)
    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"BucketName": BUCKET, "NotificationConfiguration": {"EventBridgeConfiguration": {}}},
    )


def test_one_rule_matches_the_trigger_and_targets_the_starter(synth: Synth) -> None:
    function_id, _ = _one(synth, "AWS::Lambda::Function", "TriggersFunction")
    rule_id, rule = _one(synth, "AWS::Events::Rule")
    template = Template.from_json(synth.template)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"wildcard": "incoming/*.csv"}]}},
            },
            "State": "ENABLED",
        },
    )
    assert rule["Properties"]["Targets"] == [{"Arn": {"Fn::GetAtt": [function_id, "Arn"]}, "Id": "Target0"}]
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
        },
    )


def _spec_key() -> str:
    return asl.compile_workflow(
        lower(load_workflow(str(REPO / "examples" / "etl.py"), "sales_report"))
    ).spec_key


def test_starter_function_shares_the_runner_bundle_and_names_its_triggers(synth: Synth) -> None:
    _, starter = _one(synth, "AWS::Lambda::Function", "TriggersFunction")
    _, runner = _one(synth, "AWS::Lambda::Function", "RuntimeSalesReportRunnerFunction")
    props = starter["Properties"]
    assert props["Handler"] == "stratoflow_functions.trigger_starter.handler"
    assert props["Code"] == runner["Properties"]["Code"]
    assert props["Architectures"] == runner["Properties"]["Architectures"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    variables = props["Environment"]["Variables"]
    assert variables["STRATOFLOW_BUCKET"] == {"Ref": synth_bucket_id(synth)}
    # Resolve the state machine token as CloudFormation would, then parse it as the handler does.
    separator, parts = variables["STRATOFLOW_TRIGGERS"]["Fn::Join"]
    text = separator.join(
        p if isinstance(p, str) else "arn:aws:states:us-east-1:1:stateMachine:sr" for p in parts
    )
    settings = TriggerSettings.from_env({"STRATOFLOW_BUCKET": "b", "STRATOFLOW_TRIGGERS": text})
    ((target),) = settings.targets
    assert (target.workflow, target.prefix, target.suffix, target.input) == (
        "sales_report",
        "incoming/",
        ".csv",
        "data",
    )
    assert target.spec_key == _spec_key()
    sales_machine, _ = _one(synth, "AWS::StepFunctions::StateMachine", "WorkflowSalesReport")
    assert {"Ref": sales_machine} in parts


def synth_bucket_id(synth: Synth) -> str:
    return _one(synth, "AWS::S3::Bucket", "PayloadBucket")[0]


def test_starter_role_is_least_privilege(synth: Synth) -> None:
    _, policy = _one(synth, "AWS::IAM::Policy", "TriggersRole")
    statements = {s.get("Sid", "xray"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    bucket_id = synth_bucket_id(synth)
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    sales_machine, _ = _one(synth, "AWS::StepFunctions::StateMachine", "WorkflowSalesReport")
    expected = {
        "ReadTriggeredObjects": (
            ["s3:GetObject", "s3:GetObjectVersion"],
            {"Fn::Join": ["", [arn, "/incoming/*"]]},
        ),
        "ListForMissingKeys": ("s3:ListBucket", arn),
        # Only the runs of the workflow it starts.
        "PinAndWriteRunInputs": (
            ["s3:GetObject", "s3:PutObject"],
            {"Fn::Join": ["", [arn, "/runs/sales_report/*"]]},
        ),
        "AdoptIntoBlobs": (["s3:GetObject", "s3:PutObject"], {"Fn::Join": ["", [arn, "/blobs/*"]]}),
        "ReadSpecs": ("s3:GetObject", {"Fn::Join": ["", [arn, "/" + _spec_key()]]}),
        "StartTriggeredWorkflows": ("states:StartExecution", {"Ref": sales_machine}),
        "xray": (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
    }
    assert set(statements) == {*expected, "WriteOwnLogs"}
    for sid, (actions, resource) in expected.items():
        assert (statements[sid]["Action"], statements[sid]["Resource"]) == (actions, resource), sid


def test_only_triggered_workflows_can_be_started(synth: Synth) -> None:
    starts = [
        statement
        for resource in synth.resources("AWS::IAM::Policy").values()
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "states:StartExecution" in json.dumps(statement["Action"])
        and statement.get("Sid") != "StartMapChildren"
    ]
    assert [s["Sid"] for s in starts] == ["StartTriggeredWorkflows"]


# --- the construct on its own -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ("incoming/", ".csv", [{"wildcard": "incoming/*.csv"}]),
        ("incoming/", "", [{"prefix": "incoming/"}]),
        ("", ".csv", [{"suffix": ".csv"}]),
        ("", "", None),
    ],
)
def test_key_filter(prefix: str, suffix: str, expected: object) -> None:
    assert key_filter(ir.TriggerSpec(prefix=prefix, suffix=suffix, input="data")) == expected


def _machine(stack: cdk.Stack, name: str) -> sfn.StateMachine:
    return sfn.StateMachine(
        stack, name, definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, f"{name}P"))
    )


def test_trigger_starter_on_its_own_one_rule_per_trigger() -> None:
    stack = cdk.Stack(cdk.App())
    payload = PayloadBucket(stack, "Payload", event_bridge_enabled=True)
    machine = _machine(stack, "M")
    starter = TriggerStarter(
        stack,
        "Triggers",
        code=cdk.aws_lambda.Code.from_inline("def handler(event, context):\n    return event\n"),
        bucket=payload.bucket,
        workflows=[
            TriggeredWorkflow(
                name="wf",
                state_machine=machine,
                spec_key="specs/wf/1.json",
                triggers=(ir.TriggerSpec(input="data"), ir.TriggerSpec(prefix="in/", input="data")),
            )
        ],
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Events::Rule", 2)
    assert len(starter.rules) == 2
    # No prefix and no suffix: every object of the bucket (the starter skips stratoflow's own).
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": Match.any_value()},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {"detail": Match.object_like({"object": {"key": [{"prefix": "in/"}]}})}
            )
        },
    )


def test_trigger_starter_reports_every_bad_prop_at_once() -> None:
    stack = cdk.Stack(cdk.App())
    payload = PayloadBucket(stack, "Payload")
    machine = _machine(stack, "M")
    many = tuple(ir.TriggerSpec(prefix=f"in{i}/", input="data") for i in range(40))
    with pytest.raises(PropsError) as caught:
        TriggerStarter(
            stack,
            "Triggers",
            code=cdk.aws_lambda.Code.from_inline("x = 1\n"),
            bucket=payload.bucket,
            architecture="sparc",  # type: ignore[arg-type]
            workflows=[
                TriggeredWorkflow(name="wf", state_machine=machine, spec_key="specs/wf/1.json", triggers=many)
            ],
        )
    assert len(caught.value.problems) == 2
    assert "architecture must be one of ['arm64', 'x86_64'], got 'sparc'" in str(caught.value)
    assert "40 triggers need about" in str(caught.value)
