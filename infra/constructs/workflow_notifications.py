"""``WorkflowNotifications``: ``@workflow(notifications=...)`` as EventBridge rules on every run's end.

One rule per notification on the workflow's state machine's ``Execution Status Change`` events,
filtered to its phases (a launch plan's notifications, ``PlanNotifications``, also filter to the
plan's runs). Email, Slack and PagerDuty go to an SNS topic with email subscriptions (Flyte's way);
a ``Webhook`` goes to an EventBridge API destination whose URL is the ``url`` field of the Secrets
Manager secret ``stratoflow/webhooks/<name>`` (a CloudFormation dynamic reference: resolved at deploy,
never in the template), and whose connection sends the secret's ``token`` field as the
``X-Stratoflow-Webhook`` header (EventBridge connections always authorize; a receiver may check it).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import SecretValue
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs._props import raise_if_problems
from infra.constructs.notifications import STATUS_CHANGE, console_link, email_topic
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow import ir

__all__ = [
    "WEBHOOK_HEADER",
    "WorkflowNotifications",
    "webhook_message",
    "webhook_secret_name",
    "workflow_message",
]

WEBHOOK_HEADER = "X-Stratoflow-Webhook"
_DETAIL = "$.detail."


def webhook_secret_name(webhook: str) -> str:
    """The Secrets Manager secret holding a webhook's ``url`` (and ``token``)."""
    return f"stratoflow/webhooks/{webhook}"


def _fields() -> dict[str, str]:
    return {
        name: events.EventField.from_path(_DETAIL + name)
        for name in ("name", "status", "executionArn", "error", "cause")
    }


def workflow_message(workflow: str) -> events.RuleTargetInput:
    """The email a workflow's notification sends: workflow, run, phase, error and cause, a console link."""
    f = _fields()
    return events.RuleTargetInput.from_multiline_text(
        f"stratoflow: run {f['name']} of workflow {workflow} is {f['status']}\n"
        f"error: {f['error']}\ncause: {f['cause']}\n{console_link(f['executionArn'])}"
    )


def webhook_message(workflow: str) -> events.RuleTargetInput:
    """The JSON a webhook receives: Slack's ``text``, and each field on its own for other receivers."""
    f = _fields()
    return events.RuleTargetInput.from_object(
        {
            "text": f"stratoflow: run {f['name']} of workflow {workflow} is {f['status']}: {f['error']}",
            "workflow": workflow,
            "run": f["name"],
            "phase": f["status"],
            "error": f["error"],
            "cause": f["cause"],
            "console": console_link(f["executionArn"]),
        }
    )


class WorkflowNotifications(Construct):
    """The rules (and topics, API destinations) of one workflow's notifications.

    Attributes:
        rules: The rules, in notification order.
        topics: The email topics, by notification index.
        destinations: The webhook API destinations, by notification index.

    Example:
        >>> WorkflowNotifications(stack, "NotifyEtl", workflow="etl", notifications=spec.notifications,
        ...     state_machine=machine)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflow: str,
        notifications: Sequence[ir.NotificationSpec],
        state_machine: sfn.IStateMachine,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        raise_if_problems(
            "WorkflowNotifications",
            ([] if notifications else [f"workflow {workflow!r} has no notifications"])
            + [
                f"notification {i} of workflow {workflow!r} is a webhook without a secret name"
                for i, n in enumerate(notifications)
                if n.channel == "webhook" and not n.webhook
            ],
        )
        super().__init__(scope, construct_id)
        self.rules: list[events.Rule] = []
        self.topics: dict[int, sns.Topic] = {}
        self.destinations: dict[int, events.ApiDestination] = {}
        if encryption_key is not None and any(n.channel != "webhook" for n in notifications):
            encryption_key.grant(
                iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
            )
        for index, notification in enumerate(notifications):
            label = f"{pascal_case(notification.channel)}{index}"
            if notification.channel == "webhook":
                target: events.IRuleTarget = self._webhook(index, label, workflow, notification)
            else:
                topic = email_topic(
                    self,
                    f"Topic{label}",
                    display_name=f"stratoflow {workflow} {notification.channel}",
                    recipients=notification.recipients,
                    encryption_key=encryption_key,
                )
                self.topics[index] = topic
                target = targets.SnsTopic(topic, message=workflow_message(workflow))
            self.rules.append(
                events.Rule(
                    self,
                    f"Rule{label}",
                    description=(
                        f"stratoflow: {notification.channel} when a run of workflow {workflow} is "
                        f"{' or '.join(notification.phases)}"
                    )[:512],
                    event_pattern=events.EventPattern(
                        source=["aws.states"],
                        detail_type=[STATUS_CHANGE],
                        detail={
                            "stateMachineArn": [state_machine.state_machine_arn],
                            "status": list(notification.phases),
                        },
                    ),
                    targets=[target],
                )
            )

    def _webhook(
        self, index: int, label: str, workflow: str, notification: ir.NotificationSpec
    ) -> events.IRuleTarget:
        secret = webhook_secret_name(notification.webhook or "")
        connection = events.Connection(
            self,
            f"Connection{label}",
            description=f"stratoflow {workflow} webhook {notification.webhook}"[:512],
            authorization=events.Authorization.api_key(
                WEBHOOK_HEADER, SecretValue.secrets_manager(secret, json_field="token")
            ),
        )
        destination = events.ApiDestination(
            self,
            f"Destination{label}",
            connection=connection,
            endpoint=SecretValue.secrets_manager(secret, json_field="url").unsafe_unwrap(),
            http_method=events.HttpMethod.POST,
            description=f"stratoflow {workflow} webhook {notification.webhook}"[:512],
        )
        self.destinations[index] = destination
        return targets.ApiDestination(destination, event=webhook_message(workflow), retry_attempts=3)
