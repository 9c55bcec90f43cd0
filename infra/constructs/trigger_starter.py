"""``TriggerStarter``: S3 "Object Created" events (through EventBridge) start triggered workflows.

S3 → EventBridge → this Lambda → ``StartExecution``, rather than a rule targeting the state
machine directly: an EventBridge target cannot name the execution, so a duplicated event
(S3 delivers at least once) would start a second run. The function
(``stratoflow_functions.trigger_starter.handler``) names each execution after the bucket, key and
object version, so a duplicate finds its execution already there.

One rule per trigger, matching the stack bucket's name and the key (``prefix``,
``suffix``, or ``prefix*suffix`` as an EventBridge wildcard). The function's role may read
only the triggered prefixes (to copy and hash the new object), write and read under
``runs/`` (the pinned copy and the run's inputs), read the triggered workflows' IR keys,
and start only the triggered state machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs._props import raise_if_problems
from infra.constructs._starter import ARCHITECTURES, environment_problem, starter_parts
from infra.constructs.workflow_state_machine import pascal_case
from stratoflow import ir
from stratoflow.ir import protocol

__all__ = ["TriggerStarter", "TriggeredWorkflow", "key_filter"]


def _runs_of(bucket: s3.IBucket, workflows: Sequence[str]) -> list[str]:
    """The run objects of ``workflows`` (``runs/<workflow>/*``): a starter writes only theirs."""
    return [bucket.arn_for_objects(f"{protocol.workflow_runs_prefix(w)}*") for w in sorted(set(workflows))]


@dataclass(frozen=True)
class TriggeredWorkflow:
    """A deployed workflow with triggers: its name, state machine, IR key and triggers."""

    name: str
    state_machine: sfn.IStateMachine
    spec_key: str
    triggers: tuple[ir.TriggerSpec, ...]


def key_filter(trigger: ir.TriggerSpec) -> list[object] | None:
    """The EventBridge pattern for ``detail.object.key`` (``None``: every key).

    Prefix and suffix are letters, digits and ``/ . _ -`` only (checked at definition
    time), so the wildcard needs no escaping.
    """
    if trigger.prefix and trigger.suffix:
        return [{"wildcard": f"{trigger.prefix}*{trigger.suffix}"}]
    if trigger.prefix:
        return [{"prefix": trigger.prefix}]
    if trigger.suffix:
        return [{"suffix": trigger.suffix}]
    return None


class TriggerStarter(Construct):
    """The trigger-starter Lambda and one EventBridge rule per trigger of ``workflows``.

    The bucket must send its events to EventBridge (``PayloadBucket(event_bridge_enabled=True)``).

    Attributes:
        function: The starter Lambda.
        role: Its execution role.
        rules: The EventBridge rules, in trigger order.
        dead_letter_queue: Encrypted SQS queue of events the starter failed on after its retries.

    Example:
        >>> TriggerStarter(stack, "Triggers", code=runner.code, bucket=payload.bucket,
        ...     workflows=[TriggeredWorkflow("sales_report", machine, spec_key, spec.triggers)])  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        bucket: s3.IBucket,
        workflows: Sequence[TriggeredWorkflow],
        architecture: defaults.Architecture = defaults.LAMBDA_ARCHITECTURE,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        problems = []
        if architecture not in ARCHITECTURES:
            problems.append(f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}")
        if not any(w.triggers for w in workflows):
            problems.append("workflows must include at least one trigger")
        entries = [
            {
                "workflow": w.name,
                "state_machine_arn": w.state_machine.state_machine_arn,
                "spec_key": w.spec_key,
                "prefix": t.prefix,
                "suffix": t.suffix,
                "input": t.input,
            }
            for w in workflows
            for t in w.triggers
        ]
        too_big = environment_problem(entries, "triggers", "deploy fewer triggers per stack")
        if too_big:
            problems.append(too_big)
        raise_if_problems("TriggerStarter", problems)
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        parts = starter_parts(
            self,
            role_description="stratoflow trigger starter: copy triggered objects, write run inputs, start runs",
            statements=lambda log_group: self._statements(bucket, workflows, log_group),
            handler=defaults.TRIGGER_STARTER_HANDLER,
            code=code,
            architecture=architecture,
            memory_mib=defaults.TRIGGER_STARTER_MEMORY_MIB,
            timeout_seconds=defaults.TRIGGER_STARTER_TIMEOUT_SECONDS,
            environment={
                "POWERTOOLS_SERVICE_NAME": "stratoflow-trigger-starter",
                protocol.ENV_BUCKET: bucket.bucket_name,
                protocol.ENV_TRIGGERS: stack.to_json_string(entries),
            },
            description="stratoflow trigger starter: starts workflows when objects land in S3",
            encryption_key=encryption_key,
            log_retention=log_retention,
        )
        self.log_group, self.role = parts.log_group, parts.role
        self.dead_letter_queue, self.function = parts.dead_letter_queue, parts.function
        self.rules: list[events.Rule] = []
        for workflow in workflows:
            for index, trigger in enumerate(workflow.triggers):
                detail: dict[str, object] = {"bucket": {"name": [bucket.bucket_name]}}
                keys = key_filter(trigger)
                if keys is not None:
                    detail["object"] = {"key": keys}
                rule = events.Rule(
                    self,
                    f"Rule{pascal_case(workflow.name)}{index}",
                    description=(
                        f"stratoflow: start {workflow.name} when an object lands at "
                        f"{trigger.prefix}*{trigger.suffix}"
                    ),
                    event_pattern=events.EventPattern(
                        source=["aws.s3"], detail_type=["Object Created"], detail=detail
                    ),
                    targets=[targets.LambdaFunction(self.function)],
                )
                self.rules.append(rule)
        self._acknowledge_findings(bucket, workflows)

    @staticmethod
    def _read_prefixes(workflows: Sequence[TriggeredWorkflow]) -> list[str]:
        return sorted({t.prefix for w in workflows for t in w.triggers})

    def _statements(
        self, bucket: s3.IBucket, workflows: Sequence[TriggeredWorkflow], log_group: logs.ILogGroup
    ) -> list[iam.PolicyStatement]:
        runs = _runs_of(bucket, [w.name for w in workflows])
        return [
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ReadTriggeredObjects",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{p}*") for p in self._read_prefixes(workflows)],
            ),
            iam.PolicyStatement(
                sid="ListForMissingKeys", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="PinAndWriteRunInputs", actions=["s3:GetObject", "s3:PutObject"], resources=runs
            ),
            iam.PolicyStatement(
                # Encoding the File input adopts the pinned copy into the content-addressed
                # blobs/ (HeadObject needs GetObject; the copy needs PutObject).
                sid="AdoptIntoBlobs",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{protocol.BLOBS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ReadSpecs",
                actions=["s3:GetObject"],
                resources=sorted({bucket.arn_for_objects(w.spec_key) for w in workflows}),
            ),
            iam.PolicyStatement(
                sid="StartTriggeredWorkflows",
                actions=["states:StartExecution"],
                resources=[w.state_machine.state_machine_arn for w in workflows if w.triggers],
            ),
        ]

    def _acknowledge_findings(self, bucket: s3.IBucket, workflows: Sequence[TriggeredWorkflow]) -> None:
        acknowledge(
            self.role,
            "IAM5",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) supports no resource-level permissions",
            finding="Resource::*",
        )
        for runs in _runs_of(bucket, [w.name for w in workflows]):
            acknowledge(
                self.role,
                "IAM5",
                "the starter copies the new object to runs/<workflow>/<execution>/trigger/ and writes "
                "runs/<workflow>/<execution>/inputs.json, named at run time; only the runs of the "
                "workflows it starts",
                finding=f"Resource::{nag_resource(self, runs)}",
            )
        acknowledge(
            self.role,
            "IAM5",
            "the File input is adopted into blobs/<sha256>, a content-addressed key known only at run "
            "time; only that prefix of the stack's bucket",
            finding=f"Resource::{nag_resource(self, bucket.arn_for_objects(protocol.BLOBS_PREFIX + '*'))}",
        )
        for prefix in self._read_prefixes(workflows):
            acknowledge(
                self.role,
                "IAM5",
                f"triggered objects are any key under the trigger prefix {prefix!r} (read to copy and hash "
                "the new object); only that prefix of the stack's bucket",
                finding=f"Resource::{nag_resource(self, bucket.arn_for_objects(prefix + '*'))}",
            )
        acknowledge(
            self.dead_letter_queue,
            "SQS3",
            "this queue is the starter's dead-letter queue: a DLQ of its own would have nothing to catch",
        )
        acknowledge(
            self.function,
            "L1",
            "the starter's Python is pinned to 3.12, like the runner whose bundle it shares",
        )
