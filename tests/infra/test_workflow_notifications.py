"""``@workflow(notifications=...)`` in the synthesized stack: one rule per notification on the
workflow's status changes filtered to its phases (all runs, no plan prefix), email to SNS and webhooks
to an API destination whose URL and token come from Secrets Manager; the messages' fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stratoflow.errors import DefinitionError
from stratoflow.lower import lower
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, synthesize
from tests.infra.test_stack import ALLOWED_CFN_LINT
from tests.ops import notify_flows

FLOWS = REPO / "tests" / "ops" / "notify_flows.py"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    context = {"stratoflow:workflows": [f"{FLOWS}:notified"], "stratoflow:stackName": "StratoflowNotify"}
    return synthesize(tmp_path_factory.mktemp("cdk-notify"), bundle_cache, context)


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Description"]: r["Properties"] for r in synth.resources("AWS::Events::Rule").values()
    }


def test_the_ir_keeps_the_notifications_and_a_workflow_without_keeps_its_bytes() -> None:
    spec = lower(notify_flows.notified)
    assert [(n.channel, n.phases, n.webhook) for n in spec.notifications] == [
        ("email", ("FAILED",), None),
        ("slack", ("TIMED_OUT",), None),
        ("webhook", ("FAILED", "SUCCEEDED"), "pager-hook"),
    ]
    assert '"webhook":null' not in spec.model_dump_json().replace(" ", "")


def test_one_rule_per_notification_filtered_to_its_phases_on_every_run(synth: Synth) -> None:
    rules = _rules(synth)
    assert sorted(rules) == [
        "stratoflow: email when a run of workflow notified is FAILED",
        "stratoflow: slack when a run of workflow notified is TIMED_OUT",
        "stratoflow: webhook when a run of workflow notified is FAILED or SUCCEEDED",
    ]
    (machine,) = synth.resources("AWS::StepFunctions::StateMachine")
    for description, rule in rules.items():
        pattern = rule["EventPattern"]
        assert pattern["source"] == ["aws.states"]
        assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
        assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine}]
        assert pattern["detail"]["status"] == description.rsplit(" is ", 1)[1].split(" or ")
        assert "name" not in pattern["detail"]  # every run, not only a plan's


def test_email_goes_to_sns_with_the_shaped_message(synth: Synth) -> None:
    rule = _rules(synth)["stratoflow: email when a run of workflow notified is FAILED"]
    (target,) = rule["Targets"]
    assert "Ref" in target["Arn"]
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {
        "detail-name": "$.detail.name",
        "detail-status": "$.detail.status",
        "detail-error": "$.detail.error",
        "detail-cause": "$.detail.cause",
        "detail-executionArn": "$.detail.executionArn",
    }
    template = json.dumps(transformer["InputTemplate"])
    for expected in (
        "run <detail-name> of workflow notified is <detail-status>",
        "error: <detail-error>",
        "cause: <detail-cause>",
        "#/v2/executions/details/<detail-executionArn>",
    ):
        assert expected in template
    subscriptions = [s["Properties"]["Endpoint"] for s in synth.resources("AWS::SNS::Subscription").values()]
    assert sorted(subscriptions) == ["alerts@team.slack.com", "oncall@example.com"]


def test_a_webhook_is_an_api_destination_with_its_url_and_token_from_secrets_manager(synth: Synth) -> None:
    (destination,) = synth.resources("AWS::Events::ApiDestination").values()
    endpoint = destination["Properties"]["InvocationEndpoint"]
    assert endpoint == "{{resolve:secretsmanager:stratoflow/webhooks/pager-hook:SecretString:url::}}"
    assert destination["Properties"]["HttpMethod"] == "POST"
    (connection,) = synth.resources("AWS::Events::Connection").values()
    api_key = connection["Properties"]["AuthParameters"]["ApiKeyAuthParameters"]
    assert api_key["ApiKeyName"] == "X-Stratoflow-Webhook"
    assert "stratoflow/webhooks/pager-hook:SecretString:token" in json.dumps(api_key["ApiKeyValue"])
    assert "hooks." not in json.dumps(synth.template)  # no URL is in the template
    rule = _rules(synth)["stratoflow: webhook when a run of workflow notified is FAILED or SUCCEEDED"]
    (target,) = rule["Targets"]
    # The template is JSON with the event's fields as <placeholders>; InputTemplate is a Fn::Join.
    body = json.dumps(target["InputTransformer"]["InputTemplate"]).replace('\\"', '"').replace(" ", "")
    for field in (
        '"workflow":"notified"',
        '"run":<detail-name>',
        '"phase":<detail-status>',
        '"error":<detail-error>',
        '"cause":<detail-cause>',
        '"console":"https://',
    ):
        assert field in body


def test_the_notified_stack_is_nag_and_cfn_lint_clean(synth: Synth) -> None:
    assert_nag_clean(synth)
    assert_cfn_lint_clean(synth, ALLOWED_CFN_LINT)


def test_a_notification_of_another_kind_is_a_definition_error() -> None:
    from stratoflow import workflow

    with pytest.raises(
        DefinitionError,
        match="workflow 'bad' notifications must be Email, Slack, PagerDuty or Webhook, got str",
    ):

        @workflow(notifications=["oncall@example.com"])  # type: ignore[list-item]
        def bad() -> None:
            return None
