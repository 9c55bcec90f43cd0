"""What the two starter Lambdas share (S3 triggers, schedules): role, log group, DLQ, function.

Both are small functions invoked asynchronously (by EventBridge, by Scheduler) that read their
table of workflows from one environment variable and start executions. The parts are created
on the caller's construct with the same ids ("Logs", "Role", "DeadLetters", "Function"), so
the logical ids in the template stay each construct's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import defaults

__all__ = ["ARCHITECTURES", "StarterParts", "environment_problem", "starter_parts"]

ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
_MAX_ENVIRONMENT_BYTES = 4096
"""Lambda's limit on all environment variables together."""
_ARN_ALLOWANCE = 160
"""Characters reserved per state machine ARN when sizing the environment (unresolved at synth)."""


def environment_problem(entries: list[dict[str, Any]], what: str, fewer: str) -> str | None:
    """The problem, if the table of ``entries`` (each to get a state machine ARN) may not fit Lambda's 4 KB."""
    estimate = len(json.dumps([{**e, "state_machine_arn": "x" * _ARN_ALLOWANCE} for e in entries]))
    if estimate <= _MAX_ENVIRONMENT_BYTES - 512:
        return None
    return (
        f"{len(entries)} {what} need about {estimate} bytes of Lambda environment "
        f"(limit {_MAX_ENVIRONMENT_BYTES} for all variables); {fewer}"
    )


@dataclass(frozen=True)
class StarterParts:
    log_group: logs.LogGroup
    role: iam.Role
    dead_letter_queue: sqs.Queue
    function: lambda_.Function


def starter_parts(
    scope: Construct,
    *,
    role_description: str,
    statements: Callable[[logs.LogGroup], Sequence[iam.PolicyStatement]],
    handler: str,
    code: lambda_.Code,
    architecture: str,
    memory_mib: int,
    timeout_seconds: int,
    environment: dict[str, str],
    description: str,
    encryption_key: kms.IKey | None,
    log_retention: logs.RetentionDays,
) -> StarterParts:
    """The starter's log group, least-privilege role (``statements`` of its log group), encrypted DLQ
    and function."""
    log_group = logs.LogGroup(scope, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
    )
    for statement in statements(log_group):
        role.add_to_policy(statement)
    # Invoked asynchronously: an event whose every attempt failed (throttled, S3 or Step Functions
    # unavailable) is kept here to redrive, not dropped.
    dead_letter_queue = sqs.Queue(
        scope,
        "DeadLetters",
        # The stack key when there is one, else SQS's AWS-managed key (alias/aws/sqs): its key policy
        # admits this account's principals through SQS, so the function's role needs no KMS grant,
        # and unlike SSE-SQS every use of the key is in CloudTrail.
        encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.KMS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=Duration.days(defaults.TRIGGER_DLQ_RETENTION_DAYS),
    )
    function = lambda_.Function(
        scope,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=ARCHITECTURES[architecture],
        handler=handler,
        code=code,
        memory_size=memory_mib,
        timeout=Duration.seconds(timeout_seconds),
        tracing=lambda_.Tracing.ACTIVE,
        role=role,
        log_group=log_group,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=defaults.TRIGGER_STARTER_RETRY_ATTEMPTS,
        environment=environment,
        description=description,
    )
    return StarterParts(log_group, role, dead_letter_queue, function)
