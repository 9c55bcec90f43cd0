"""Launch plans in the synthesized stack: Scheduler schedules (time zone, retry policy, DLQ), the
schedule starter's least-privilege role, and notification rules to SNS email."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.app import build_app
from infra.constructs import PropsError
from infra.constructs.launch_plans import PlannedWorkflow, ScheduledPlans
from stratoflow import ir
from stratoflow.client import ScheduleSettings
from stratoflow.ir import protocol
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, _as_list, _statements

STACK = "StratoflowPlans"
EXAMPLE = REPO / "examples" / "scheduled.py"


@pytest.fixture(scope="module")
def plan_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-plans")
    context = {
        **cdk_json_context(),
        # Two plans of one workflow, and the workflow named too: it deploys once.
        "stratoflow:workflows": [
            f"{EXAMPLE}:nightly_report",
            f"{EXAMPLE}:hourly_refresh",
            f"{EXAMPLE}:daily_report",
        ],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _schedules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Description"].split()[3]: r["Properties"]
        for r in synth.resources("AWS::Scheduler::Schedule").values()
    }


def test_a_plan_workflow_deploys_once(plan_synth: Synth) -> None:
    assert len(plan_synth.resources("AWS::StepFunctions::StateMachine")) == 1


def test_a_cron_plan_is_a_schedule_in_its_time_zone_with_retries_and_a_dlq(plan_synth: Synth) -> None:
    schedules = _schedules(plan_synth)
    assert sorted(schedules) == ["hourly_refresh", "nightly_report"]
    nightly = schedules["nightly_report"]
    assert nightly["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert nightly["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert nightly["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert nightly["State"] == "ENABLED"
    target = nightly["Target"]
    assert json.loads(target["Input"]) == {
        "plan": "nightly_report",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600}
    (queue_id,) = plan_synth.resources("AWS::SQS::Queue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    (function_id,) = [
        k for k in plan_synth.resources("AWS::Lambda::Function") if k.startswith("SchedulesFunction")
    ]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    (group,) = plan_synth.resources("AWS::Scheduler::ScheduleGroup").values()
    assert group["Properties"]["Name"] == f"{protocol.SCHEDULE_GROUP_PREFIX}{STACK}"


def test_a_fixed_rate_plan_is_a_rate_schedule(plan_synth: Synth) -> None:
    hourly = _schedules(plan_synth)["hourly_refresh"]
    assert hourly["ScheduleExpression"] == "rate(1 hour)"
    assert hourly["ScheduleExpressionTimezone"] == "UTC"


def test_the_dlq_is_encrypted_and_ssl_only(plan_synth: Synth) -> None:
    template = Template.from_json(plan_synth.template)
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": "alias/aws/sqs"})
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Effect": "Deny"})])}},
    )


def test_the_starter_knows_each_plans_inputs_and_kickoff_input(plan_synth: Synth) -> None:
    (function,) = [
        v
        for k, v in plan_synth.resources("AWS::Lambda::Function").items()
        if k.startswith("SchedulesFunction")
    ]
    env = function["Properties"]["Environment"]["Variables"]
    assert function["Properties"]["Handler"] == "stratoflow_functions.schedule_starter.handler"
    # The ARNs are joined in at deploy: fill them with a stand-in to read the JSON.
    joined = env[protocol.ENV_LAUNCH_PLANS]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "arn:aws:states:r:1:stateMachine:x" for part in joined)
    settings = ScheduleSettings.from_env({protocol.ENV_BUCKET: "b", protocol.ENV_LAUNCH_PLANS: text})
    nightly = settings.plans["nightly_report"]
    assert nightly.inputs == {"region": "eu", "top": 3}
    assert nightly.kickoff_input == "day"
    assert settings.plans["hourly_refresh"].inputs == {"region": "us"}


def test_scheduler_may_only_invoke_the_starter_and_send_to_the_dlq(plan_synth: Synth) -> None:
    (role_id, role) = next(
        (k, v)
        for k, v in plan_synth.resources("AWS::IAM::Role").items()
        if k.startswith("SchedulesSchedulerRole")
    )
    (assume,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert assume["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in assume["Condition"]["StringEquals"]
    actions = sorted(
        a
        for lid, s in _statements(plan_synth)
        if lid.startswith("SchedulesSchedulerRole")
        for a in _as_list(s["Action"])
    )
    assert actions == [
        "lambda:InvokeFunction",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
    ]
    assert role_id


def test_the_starter_role_is_least_privilege(plan_synth: Synth) -> None:
    sids = {s.get("Sid"): s for lid, s in _statements(plan_synth) if lid.startswith("SchedulesRole")}
    assert _as_list(sids["StartScheduledWorkflows"]["Action"]) == ["states:StartExecution"]
    (machine_id,) = plan_synth.resources("AWS::StepFunctions::StateMachine")
    assert _as_list(sids["StartScheduledWorkflows"]["Resource"]) == [{"Ref": machine_id}]
    assert len(_as_list(sids["ReadSpecs"]["Resource"])) == 1  # the one workflow's IR key
    every = [a for s in sids.values() for a in _as_list(s["Action"])]
    assert not any(a.endswith("*") or a in ("s3:DeleteObject", "states:StopExecution") for a in every)


def test_a_notification_is_a_rule_on_the_plans_runs_to_an_email_topic(plan_synth: Synth) -> None:
    (rule,) = plan_synth.resources("AWS::Events::Rule").values()
    (machine_id,) = plan_synth.resources("AWS::StepFunctions::StateMachine")
    props = rule["Properties"]
    assert props["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "stateMachineArn": [{"Ref": machine_id}],
            "status": ["FAILED"],
            "name": [{"prefix": "nightly_report-"}],
        },
    }
    (target,) = props["Targets"]
    (topic_id,) = plan_synth.resources("AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    transformer = target["InputTransformer"]
    assert set(transformer["InputPathsMap"].values()) >= {
        "$.detail.name",
        "$.detail.status",
        "$.detail.error",
        "$.detail.cause",
    }
    assert "daily_report" in json.dumps(transformer["InputTemplate"])
    (subscription,) = plan_synth.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "data-oncall@example.com"
    Template.from_json(plan_synth.template).has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "events.amazonaws.com"}})]
                )
            }
        },
    )


def test_cdk_nag_found_nothing_unacknowledged(plan_synth: Synth) -> None:
    assert_nag_clean(plan_synth)


def test_cfn_lint_passes(plan_synth: Synth) -> None:
    assert_cfn_lint_clean(plan_synth, ALLOWED_CFN_LINT)


def test_scheduled_plans_refuses_an_unscheduled_plan() -> None:
    stack = cdk.Stack()
    plan = ir.LaunchPlanSpec(name="by_hand", workflow="w", location=ir.SourceLocation(path="f.py", line=1))
    with pytest.raises(PropsError, match="plans must be scheduled launch plans \\(unscheduled: by_hand\\)"):
        ScheduledPlans(
            stack,
            "S",
            code=cdk.aws_lambda.Code.from_inline("x"),
            bucket=cdk.aws_s3.Bucket(stack, "B"),
            plans=[
                PlannedWorkflow(
                    plan, cdk.aws_stepfunctions.StateMachine.from_state_machine_name(stack, "M", "m"), "k"
                )
            ],
        )
