"""``ScheduledPlans``: each scheduled launch plan as an EventBridge Scheduler schedule.

Scheduler → this starter Lambda → ``StartExecution``, rather than Scheduler's universal
``states:startExecution`` target: that target cannot name the execution, so a retried delivery
would start a second run. The starter (``stratoflow_functions.schedule_starter.handler``) names
each run from the plan and the occurrence's scheduled time (``protocol.scheduled_run_id``).

Every schedule has its plan's time zone, a retry policy and a dead-letter queue (encrypted
SQS); Scheduler invokes the starter asynchronously, so the starter's own failures take
Lambda's asynchronous retries and land in the same queue. The schedules live in their own
group (``stratoflow-<stack>``). Scheduler's role may invoke only the starter and send only to
the queue; the starter's role may write only runs' inputs, read only the plans' IR keys, and
start only the plans' state machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs._props import raise_if_problems
from infra.constructs._starter import ARCHITECTURES, environment_problem, starter_parts
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow import ir
from stratoflow.backends.scheduler import schedule_expression
from stratoflow.ir import protocol

__all__ = ["PlannedWorkflow", "ScheduledPlans"]


@dataclass(frozen=True)
class PlannedWorkflow:
    """A scheduled plan and the deployed workflow it starts."""

    plan: ir.LaunchPlanSpec
    state_machine: sfn.IStateMachine
    spec_key: str


def _runs_of(bucket: s3.IBucket, plans: Sequence[PlannedWorkflow]) -> list[str]:
    """The run objects of the planned workflows (``runs/<workflow>/*``): the starter writes only theirs."""
    workflows = sorted({protocol.spec_workflow(p.spec_key) or p.spec_key for p in plans})
    return [bucket.arn_for_objects(f"{protocol.workflow_runs_prefix(w)}*") for w in workflows]


class ScheduledPlans(Construct):
    """The schedule-starter Lambda, its dead-letter queue and one Scheduler schedule per plan.

    Attributes:
        function: The starter Lambda.
        role: Its execution role.
        scheduler_role: The role Scheduler assumes to invoke the starter and use the DLQ.
        dead_letter_queue: Encrypted SQS queue of deliveries that failed after their retries.
        group: The schedule group.
        schedules: Plan name -> its ``AWS::Scheduler::Schedule``.

    Example:
        >>> ScheduledPlans(stack, "Schedules", code=runner.code, bucket=payload.bucket,
        ...     plans=[PlannedWorkflow(plan_spec, machine, spec_key)])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        bucket: s3.IBucket,
        plans: Sequence[PlannedWorkflow],
        architecture: defaults.Architecture = defaults.LAMBDA_ARCHITECTURE,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        problems = []
        if architecture not in ARCHITECTURES:
            problems.append(f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
        unscheduled = [p.plan.name for p in plans if p.plan.schedule is None]
        if unscheduled or not plans:
            problems.append(
                f"plans must be scheduled launch plans (unscheduled: {', '.join(unscheduled) or 'none given'})"
            )
        entries = [
            protocol.ScheduledPlan(
                plan=p.plan.name,
                workflow=p.plan.workflow,
                state_machine_arn=p.state_machine.state_machine_arn,
                spec_key=p.spec_key,
                inputs=p.plan.inputs(),
                kickoff_input=p.plan.schedule.kickoff_input if p.plan.schedule else None,
            ).model_dump()
            for p in plans
        ]
        too_big = environment_problem(
            entries, "scheduled plans", "deploy fewer plans, or smaller inputs, per stack"
        )
        if too_big:
            problems.append(too_big)
        raise_if_problems("ScheduledPlans", problems)
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        parts = starter_parts(
            self,
            role_description="stratoflow schedule starter: write run inputs, start scheduled runs",
            statements=lambda _: self._statements(bucket, plans),
            handler=defaults.SCHEDULE_STARTER_HANDLER,
            code=code,
            architecture=architecture,
            memory_mib=defaults.SCHEDULE_STARTER_MEMORY_MIB,
            timeout_seconds=defaults.SCHEDULE_STARTER_TIMEOUT_SECONDS,
            environment={
                "POWERTOOLS_SERVICE_NAME": "stratoflow-schedule-starter",
                protocol.ENV_BUCKET: bucket.bucket_name,
                protocol.ENV_LAUNCH_PLANS: stack.to_json_string(entries),
            },
            description="stratoflow schedule starter: starts launch plans' scheduled runs",
            encryption_key=encryption_key,
            log_retention=log_retention,
        )
        self.log_group, self.role = parts.log_group, parts.role
        self.dead_letter_queue, self.function = parts.dead_letter_queue, parts.function
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            # Only Scheduler acting for this account may assume it (the confused-deputy guard).
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="stratoflow schedules: invoke the schedule starter, dead-letter failed deliveries",
        )
        self.function.grant_invoke(self.scheduler_role)
        self.dead_letter_queue.grant_send_messages(self.scheduler_role)
        self.group = scheduler.CfnScheduleGroup(
            self, "Group", name=f"{protocol.SCHEDULE_GROUP_PREFIX}{stack.stack_name}"[:64]
        )
        self.schedules: dict[str, scheduler.CfnSchedule] = {}
        for planned in plans:
            self.schedules[planned.plan.name] = self._schedule(planned)
        self._acknowledge_findings(bucket, plans)

    def _schedule(self, planned: PlannedWorkflow) -> scheduler.CfnSchedule:
        plan = planned.plan
        assert plan.schedule is not None  # noqa: S101 - checked in __init__
        schedule = scheduler.CfnSchedule(
            self,
            f"Schedule{pascal_case(plan.name)}",
            description=f"stratoflow: launch plan {plan.name} of workflow {plan.workflow}",
            group_name=self.group.ref,
            schedule_expression=schedule_expression(plan.schedule),
            schedule_expression_timezone=plan.schedule.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(
                mode=defaults.SCHEDULE_FLEXIBLE_WINDOW
            ),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.function.function_arn,
                role_arn=self.scheduler_role.role_arn,
                input=protocol.scheduled_start_input(plan.name),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=defaults.SCHEDULE_RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=defaults.SCHEDULE_MAX_EVENT_AGE_SECONDS,
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=self.dead_letter_queue.queue_arn
                ),
            ),
        )
        schedule.add_dependency(self.group)
        return schedule

    @staticmethod
    def _statements(bucket: s3.IBucket, plans: Sequence[PlannedWorkflow]) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="WriteRunInputs",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=_runs_of(bucket, plans),
            ),
            iam.PolicyStatement(
                # Without it a missing inputs object reads as 403, not 404.
                sid="ListForMissingKeys",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                # A plan's File inputs are adopted into the content-addressed blobs/.
                sid="AdoptIntoBlobs",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{protocol.BLOBS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ReadSpecs",
                actions=["s3:GetObject"],
                resources=sorted({bucket.arn_for_objects(p.spec_key) for p in plans}),
            ),
            iam.PolicyStatement(
                sid="StartScheduledWorkflows",
                actions=["states:StartExecution"],
                resources=sorted({p.state_machine.state_machine_arn for p in plans}, key=str),
            ),
        ]

    def _acknowledge_findings(self, bucket: s3.IBucket, plans: Sequence[PlannedWorkflow]) -> None:
        acknowledge(
            self.role,
            "IAM5",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) supports no resource-level permissions",
            finding="Resource::*",
        )
        for runs in _runs_of(bucket, plans):
            acknowledge(
                self.role,
                "IAM5",
                "the starter writes runs/<workflow>/<execution>/inputs.json, named from the plan and the "
                "scheduled time at run time; only the runs of the planned workflows",
                finding=f"Resource::{nag_resource(self, runs)}",
            )
        acknowledge(
            self.role,
            "IAM5",
            "a plan's File inputs are adopted into blobs/<sha256>, a content-addressed key known only at "
            "run time; only that prefix of the stack's bucket",
            finding=f"Resource::{nag_resource(self, bucket.arn_for_objects(protocol.BLOBS_PREFIX + '*'))}",
        )
        acknowledge(
            self.scheduler_role,
            "IAM5",
            "lambda:InvokeFunction on the starter's versions and aliases (<arn>:*), as CDK's grant_invoke "
            "writes it; only the starter function",
            finding=f"Resource::<{Stack.of(self).get_logical_id(self.function.node.default_child)}.Arn>:*",  # type: ignore[arg-type]
        )
        acknowledge(
            self.dead_letter_queue,
            "SQS3",
            "this queue is the schedules' and the starter's dead-letter queue: a DLQ of its own would "
            "have nothing to catch",
        )
        acknowledge(
            self.function,
            "L1",
            "the starter's Python is pinned to 3.12, like the runner whose bundle it shares",
        )
