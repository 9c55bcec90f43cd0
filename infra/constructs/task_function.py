"""``TaskFunction``: the one task-runner Lambda every Lambda-routed node of every workflow invokes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Annotations, AssetHashType, Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._bundle import DependencyBundling, build_lambda_bundle, runtime_sources
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems

__all__ = ["TaskFunction"]

_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
_MAX_MEMORY_MIB = 10_240
_MAX_EPHEMERAL_MIB = 10_240
_MIN_EPHEMERAL_MIB = 512


class TaskFunction(Construct):
    """The runner Lambda (``stratoflow_functions.task_runner.handler``): Python 3.12, X-Ray, its own log group.

    Code is built locally (no Docker): ``stratoflow``, ``stratoflow_functions`` and the workflow
    modules, plus the runner's requirements installed by pip for the function's platform
    and cached by content hash (``infra.constructs._bundle``). Its role starts with only
    the right to write its own log group; the stack adds the data-plane grants.

    Attributes:
        function: The Lambda function.
        role: Its execution role.
        code: The code asset (shared by other functions of the stack, e.g. the trigger starter).
        bundle_path: The staged code directory (for inspection and tests).

    Example:
        >>> runner = TaskFunction(stack, "Runner", workflow_modules=[Path("examples/etl.py")],
        ...     environment={protocol.ENV_BUCKET: bucket.bucket_name})  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflow_modules: Sequence[Path],
        environment: dict[str, str],
        architecture: defaults.Architecture = defaults.LAMBDA_ARCHITECTURE,
        memory_mib: int = defaults.RUNNER_MEMORY_MIB,
        ephemeral_storage_mib: int = _MIN_EPHEMERAL_MIB,
        timeout_seconds: int = defaults.RUNNER_TIMEOUT_SECONDS,
        requirements: Sequence[str] = defaults.RUNNER_REQUIREMENTS,
        dependencies: DependencyBundling = DependencyBundling.PIP,
        cache_dir: Path = Path(defaults.BUNDLE_CACHE_DIR),
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        reserved_concurrency: int | None = None,
    ) -> None:
        problems = []
        if reserved_concurrency is not None and reserved_concurrency < 1:
            problems.append(f"reserved_concurrency must be at least 1, got {reserved_concurrency}")
        if architecture not in _ARCHITECTURES:
            problems.append(f"architecture must be one of {sorted(_ARCHITECTURES)}, got {architecture!r}")
        if not 128 <= memory_mib <= _MAX_MEMORY_MIB:
            problems.append(f"memory_mib must be within 128..{_MAX_MEMORY_MIB}, got {memory_mib}")
        if not _MIN_EPHEMERAL_MIB <= ephemeral_storage_mib <= _MAX_EPHEMERAL_MIB:
            problems.append(
                f"ephemeral_storage_mib must be within {_MIN_EPHEMERAL_MIB}..{_MAX_EPHEMERAL_MIB}, "
                f"got {ephemeral_storage_mib}"
            )
        if not 1 <= timeout_seconds <= defaults.RUNNER_TIMEOUT_SECONDS:
            problems.append(f"timeout_seconds must be within 1..900, got {timeout_seconds}")
        # A module file, or the top-level package of a module inside a package (bundled whole).
        missing = [str(path) for path in workflow_modules if not path.exists()]
        if missing:
            problems.append(f"workflow_modules not found: {', '.join(missing)}")
        if not isinstance(dependencies, DependencyBundling):
            problems.append(f"dependencies must be a DependencyBundling, got {dependencies!r}")
        raise_if_problems("TaskFunction", problems)
        super().__init__(scope, construct_id)

        bundle = build_lambda_bundle(
            sources=runtime_sources(workflow_modules),
            requirements=requirements,
            platform=defaults.PIP_PLATFORMS[architecture],
            python_version=defaults.PYTHON_VERSION,
            cache_dir=cache_dir,
            dependencies=dependencies,
        )
        self.bundle_path = bundle.path
        if dependencies is DependencyBundling.FAKE_FOR_TESTS:
            Annotations.of(self).add_warning_v2(
                "stratoflow:fakeDependencies",
                "the task runner was bundled WITHOUT its pip dependencies (DependencyBundling.FAKE_FOR_TESTS); "
                "this template is for tests only and must not be deployed",
            )

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="stratoflow task runner: its own logs here; data-plane grants added by the stack",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every log group in the account).
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.code = lambda_.Code.from_asset(
            str(bundle.path), asset_hash=bundle.content_hash, asset_hash_type=AssetHashType.CUSTOM
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=_ARCHITECTURES[architecture],
            handler=defaults.RUNNER_HANDLER,
            code=self.code,
            memory_size=memory_mib,
            ephemeral_storage_size=Size.mebibytes(ephemeral_storage_mib),
            timeout=Duration.seconds(timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": "stratoflow-task-runner",
                "POWERTOOLS_METRICS_NAMESPACE": "stratoflow",
                **environment,
            },
            description="stratoflow task runner: runs one workflow node per invocation",
            # Opt-in: a throttled invocation is a Lambda.TooManyRequestsException that the
            # compiled ASL's task retries absorb.
            reserved_concurrent_executions=reserved_concurrency,
        )
        acknowledge(
            self.function,
            "L1",
            "the runner's Python is pinned to 3.12 (DESIGN: the wheels are built and the suite runs "
            "for it); a runtime upgrade is a deliberate change of defaults.PYTHON_VERSION",
        )
        acknowledge(
            self.role,
            "IAM5",
            "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) supports no resource-level permissions",
            finding="Resource::*",
        )
