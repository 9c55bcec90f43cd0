"""A workflow that notifies by email on failure and by webhook on any end."""

from __future__ import annotations

from stratoflow import Email, Slack, Webhook, WorkflowExecutionPhase, task, workflow


@task
def step(x: int) -> int:
    return x + 1


@workflow(
    notifications=[
        Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["oncall@example.com"]),
        Slack(phases=[WorkflowExecutionPhase.TIMED_OUT], recipients_email=["alerts@team.slack.com"]),
        Webhook(
            phases=[WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.SUCCEEDED],
            secret="pager-hook",  # noqa: S106 - the name of the secret holding the URL
        ),
    ]
)
def notified(x: int = 1) -> int:
    return step(x=step(x=x))
