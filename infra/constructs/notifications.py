"""``PlanNotifications``: a launch plan's notifications as EventBridge rules → SNS email.

Step Functions sends an ``Execution Status Change`` event for every execution to the default
event bus; one rule per notification matches its plan's state machine, its plan's runs (the
execution name begins ``protocol.plan_run_prefix(plan)``) and its phases, and publishes a
message shaped from the event (workflow, run, phase, error and cause, a console link) to a
topic whose subscribers are the notification's recipients. Slack and PagerDuty are reached
as Flyte reaches them: by email to their integration addresses.

The topic is encrypted with the stack key when there is one (context ``stratoflow:kms``; the
key lets EventBridge use it). Without it the topic is unencrypted: EventBridge cannot publish
to a topic under SNS's AWS-managed key, and the messages carry only execution names,
statuses and error text.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow import ir
from stratoflow.ir import protocol

__all__ = ["STATUS_CHANGE", "PlanNotifications", "console_link", "email_topic", "notification_message"]

STATUS_CHANGE = "Step Functions Execution Status Change"


def notification_message(plan: ir.LaunchPlanSpec) -> events.RuleTargetInput:
    """The message a plan's notification publishes, filled from the event by an input transformer."""
    detail = "$.detail."
    name = events.EventField.from_path(detail + "name")
    status = events.EventField.from_path(detail + "status")
    arn = events.EventField.from_path(detail + "executionArn")
    error = events.EventField.from_path(detail + "error")
    cause = events.EventField.from_path(detail + "cause")
    console = console_link(arn)
    return events.RuleTargetInput.from_multiline_text(
        f"stratoflow: run {name} of workflow {plan.workflow} (launch plan {plan.name}) is {status}\n"
        f"error: {error}\ncause: {cause}\n{console}"
    )


def email_topic(
    scope: Construct,
    construct_id: str,
    *,
    display_name: str,
    recipients: Sequence[str],
    encryption_key: kms.IKey | None,
) -> sns.Topic:
    """A topic with one email subscription per recipient (each confirms by email first)."""
    topic = sns.Topic(
        scope, construct_id, display_name=display_name[:100], master_key=encryption_key, enforce_ssl=True
    )
    for recipient in dict.fromkeys(recipients):
        topic.add_subscription(subscriptions.EmailSubscription(recipient))
    if encryption_key is None:
        acknowledge(
            topic,
            "SNS2",
            "EventBridge cannot publish to a topic under SNS's AWS-managed key; the messages hold only "
            "execution names, statuses and errors (deploy with stratoflow:kms for the stack key)",
        )
    return topic


def console_link(arn: str) -> str:
    """The Step Functions console page of the execution ``arn`` (a token of the event)."""
    return (
        f"https://{Aws.REGION}.console.aws.amazon.com/states/home?region={Aws.REGION}"
        f"#/v2/executions/details/{arn}"
    )


class PlanNotifications(Construct):
    """One topic (email subscriptions) and one rule per notification of ``plan``.

    Attributes:
        topics: The topics, in notification order.
        rules: The rules, in notification order.

    Example:
        >>> PlanNotifications(stack, "NotifyNightly", plan=plan_spec, state_machine=machine)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: ir.LaunchPlanSpec,
        state_machine: sfn.IStateMachine,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        raise_if_problems(
            "PlanNotifications",
            [] if plan.notifications else [f"launch plan {plan.name!r} has no notifications"],
        )
        super().__init__(scope, construct_id)
        self.topics: list[sns.Topic] = []
        self.rules: list[events.Rule] = []
        if encryption_key is not None:
            encryption_key.grant(
                iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
            )
        for index, notification in enumerate(plan.notifications):
            self._add(index, plan, notification, state_machine, encryption_key)

    def _add(
        self,
        index: int,
        plan: ir.LaunchPlanSpec,
        notification: ir.NotificationSpec,
        state_machine: sfn.IStateMachine,
        encryption_key: kms.IKey | None,
    ) -> None:
        label = f"{pascal_case(notification.channel)}{index}"
        topic = email_topic(
            self,
            f"Topic{label}",
            display_name=f"stratoflow {plan.name} {notification.channel}",
            recipients=notification.recipients,
            encryption_key=encryption_key,
        )
        rule = events.Rule(
            self,
            f"Rule{label}",
            description=(
                f"stratoflow: {notification.channel} when a run of launch plan {plan.name} is "
                f"{' or '.join(notification.phases)}"
            )[:512],
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[STATUS_CHANGE],
                detail={
                    "stateMachineArn": [state_machine.state_machine_arn],
                    "status": list(notification.phases),
                    "name": [{"prefix": protocol.plan_run_prefix(plan.name)}],
                },
            ),
            targets=[targets.SnsTopic(topic, message=notification_message(plan))],
        )
        self.topics.append(topic)
        self.rules.append(rule)
