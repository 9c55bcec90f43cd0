"""The stack's launch plans: the scheduled ones' schedules and every plan's notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs import defaults
from infra.constructs.launch_plans import PlannedWorkflow, ScheduledPlans
from infra.constructs.notifications import PlanNotifications
from infra.constructs.workflow_notifications import WorkflowNotifications
from infra.constructs.workflow_state_machine import WorkflowStateMachine, pascal_case
from stratoflow import ir

__all__ = ["LaunchPlans", "add_launch_plans"]


@dataclass(frozen=True)
class LaunchPlans:
    """What :func:`add_launch_plans` made: the schedules (``None`` without a scheduled plan) and
    the notifications per plan name, and ``@workflow(notifications=...)``'s per workflow name."""

    schedules: ScheduledPlans | None
    notifications: dict[str, PlanNotifications]
    workflow_notifications: dict[str, WorkflowNotifications] = field(default_factory=dict)


def add_launch_plans(
    scope: Construct,
    *,
    plans: Sequence[ir.LaunchPlanSpec],
    workflows: Mapping[str, WorkflowStateMachine],
    spec_keys: Mapping[str, str],
    code: lambda_.Code,
    bucket: s3.IBucket,
    architecture: defaults.Architecture,
    encryption_key: kms.IKey | None,
    specs: Sequence[ir.WorkflowSpec] = (),
) -> LaunchPlans:
    """Schedules for the scheduled ``plans``, notifications for those that have any, and the
    notifications of the workflows in ``specs`` that declare some."""
    scheduled = [
        PlannedWorkflow(plan, workflows[plan.workflow].state_machine, spec_keys[plan.workflow])
        for plan in plans
        if plan.schedule is not None
    ]
    schedules = (
        ScheduledPlans(
            scope,
            "Schedules",
            code=code,
            bucket=bucket,
            plans=scheduled,
            architecture=architecture,
            encryption_key=encryption_key,
        )
        if scheduled
        else None
    )
    notifications = {
        plan.name: PlanNotifications(
            scope,
            f"Notify{pascal_case(plan.name)}",
            plan=plan,
            state_machine=workflows[plan.workflow].state_machine,
            encryption_key=encryption_key,
        )
        for plan in plans
        if plan.notifications
    }
    declared = {
        spec.name: WorkflowNotifications(
            scope,
            f"NotifyWorkflow{pascal_case(spec.name)}",
            workflow=spec.name,
            notifications=spec.notifications,
            state_machine=workflows[spec.name].state_machine,
            encryption_key=encryption_key,
        )
        for spec in specs
        if spec.notifications
    }
    return LaunchPlans(schedules, notifications, declared)
