"""``ImageFunction``: the container-image Lambda function that runs the Lambda tasks of one image.

The same runner as the zip-bundled ``TaskFunction`` (``stratoflow_functions.task_runner.handler``,
started by the Lambda runtime interface client), built from the task's image, so a task's
dependencies are its image's. One function per image; the stack sizes it for the largest of
its tasks and adds the same data-plane grants as the shared runner's.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from stratoflow import ir

__all__ = ["ImageFunction"]

_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
_MAX_MEMORY_MIB = 10_240


class ImageFunction(Construct):
    """A ``PackageType: Image`` runner function for the Lambda tasks of ``image``.

    Attributes:
        function: The Lambda function.
        role: Its execution role (its own logs; the stack adds the data-plane grants).
        log_group: Its log group.

    Example:
        >>> ImageFunction(stack, "Image", image=task.image, code=images.lambda_code(task.image, "arm64"),
        ...     environment={}, architecture="arm64")  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ir.ImageRef,
        code: lambda_.DockerImageCode,
        environment: dict[str, str],
        architecture: defaults.Architecture = defaults.LAMBDA_ARCHITECTURE,
        memory_mib: int = defaults.RUNNER_MEMORY_MIB,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
    ) -> None:
        problems = []
        if architecture not in _ARCHITECTURES:
            problems.append(f"architecture must be one of {sorted(_ARCHITECTURES)}, got {architecture!r}")
        if not 128 <= memory_mib <= _MAX_MEMORY_MIB:
            problems.append(f"memory_mib must be within 128..{_MAX_MEMORY_MIB}, got {memory_mib}")
        raise_if_problems("ImageFunction", problems)
        super().__init__(scope, construct_id)
        what = image.uri or f"ImageSpec '{image.name}'"
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"stratoflow image runner ({what}): its own logs; data-plane grants added by the stack",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            code=code,
            architecture=_ARCHITECTURES[architecture],
            memory_size=memory_mib,
            timeout=Duration.seconds(defaults.RUNNER_TIMEOUT_SECONDS),
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": "stratoflow-task-runner",
                "POWERTOOLS_METRICS_NAMESPACE": "stratoflow",
                **environment,
            },
            description=f"stratoflow task runner on image {image.tag} ({what})"[:256],
        )
        acknowledge(
            self.role,
            "IAM5",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) supports no resource-level permissions",
            finding="Resource::*",
        )
