"""``EmulatedAws``: moto's executing Step Functions plus in-process Lambda and ECS code."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, overload

import boto3  # type: ignore[import-untyped]  # only the per-service mypy_boto3 stubs are installed
from moto import mock_aws

from stratoflow import errors
from stratoflow.testing import _patches_batch, _patches_ecs, _patches_lambda, _patches_sfn
from stratoflow.testing._execution import ExecutionResult, fill_placeholders, max_payload_bytes
from stratoflow.testing._moto_patches import install_all, uninstall_all
from stratoflow.testing._session import SharedClientsSession, default_session, set_default_session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "batch": {"use_docker": False},
}
"""What ``mock_aws`` is given: run state machines, and never start Docker for Lambda or Batch."""

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}
# Anything that could point boto3 at a real account or another endpoint is removed.
_UNSET_ENV_PREFIXES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN")
_ROLE_NAME = "stratoflow-emulated"
_ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Service": ["lambda.amazonaws.com", "states.amazonaws.com", "ecs-tasks.amazonaws.com"]
                },
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _dummy_zip() -> bytes:
    # moto stores the package but never runs it: the in-process handler replaces it.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class EmulatedAws:
    """An offline AWS account (moto) that really runs Step Functions state machines.

    Lambda handlers and ECS container entrypoints run in-process as Python callables, so
    they see the same mocked S3/DynamoDB as the test. Resource creation is one method per
    resource, so a later tier can deploy a synthesized template instead.

    Example:
        >>> with EmulatedAws() as aws:
        ...     fn = aws.register_lambda("double", lambda event, ctx: {"x": event["x"] * 2})
        ...     arn = aws.create_state_machine("sm", {
        ...         "StartAt": "T", "States": {"T": {
        ...             "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        ...             "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"},
        ...             "OutputPath": "$.Payload", "End": True}}}, {"Fn": fn})
        ...     aws.start_and_wait(arn, {"x": 21}).output
        {'x': 42}
    """

    def __init__(
        self, *, region: str = "us-east-1", timer_scale: float = 0.001, patched: bool = True
    ) -> None:
        """Configure the harness; nothing starts until ``__enter__``.

        Args:
            region: the region every client and resource uses.
            timer_scale: factor for Retry backoff, Wait states and ``.sync`` polling.
            patched: ``False`` removes every patch instead, giving moto as shipped (for the
                canary tests that prove a patch is still needed).
        """
        self.region = region
        self.timer_scale = timer_scale
        self.patched = patched
        self._stack: ExitStack | None = None
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self._role_arn: str | None = None
        self._lambda_names: list[str] = []
        self._ecs_families: list[str] = []
        self._batch_job_definitions: list[str] = []

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        stack = ExitStack()
        try:
            stack.enter_context(_fake_aws_env(self.region))
            if self.patched:
                install_all(timer_scale=self.timer_scale)
            else:
                uninstall_all()
            _patches_sfn.clear_runtime_errors()
            stack.enter_context(mock_aws(config=MOTO_CONFIG))  # type: ignore[call-overload]
            self._session = SharedClientsSession(region_name=self.region)
            # The in-process runner's boto3.client(name) calls share the harness's clients.
            stack.callback(set_default_session, default_session())
            set_default_session(self._session)
            stack.callback(self._cleanup)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def _cleanup(self) -> None:
        # Runs while the mock is still active: executions are daemon threads that would
        # otherwise keep calling a mock that no longer exists.
        self._stop_running_executions()
        for name in self._lambda_names:
            _patches_lambda.unregister_lambda_handler(name)
        for family in self._ecs_families:
            _patches_ecs.unregister_ecs_entrypoint(family)
        for name in self._batch_job_definitions:
            _patches_batch.unregister_batch_entrypoint(name)
        self._clients.clear()
        self._session = None

    def _stop_running_executions(self, grace_seconds: float = 5.0) -> None:
        if not _patches_sfn.prune_tmp_threads():
            # moto runs every execution (its branches, map iterations and callback waits too) on
            # a thread it lists; with none alive, none can still call the mock: two listings
            # (and an SFN client, for a run that made none) spared.
            return
        sfn = self.client("stepfunctions")
        for machine in sfn.list_state_machines()["stateMachines"]:
            running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
            for execution in running["executions"]:
                sfn.stop_execution(executionArn=execution["executionArn"], cause="EmulatedAws exit")
        deadline = time.monotonic() + grace_seconds
        while _patches_sfn.prune_tmp_threads() and time.monotonic() < deadline:
            time.sleep(0.01)

    # --- clients ---------------------------------------------------------------------------

    @property
    def session(self) -> boto3.Session:
        """A boto3 session bound to the mock (fake credentials, the harness region)."""
        if self._session is None:
            raise errors.ConfigError("EmulatedAws is not active: use it as a context manager")
        return self._session

    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["stepfunctions"]) -> SFNClient: ...
    @overload
    def client(self, service: str) -> Any: ...
    def client(self, service: str) -> Any:
        """A cached boto3 client for ``service``, bound to the mock (the one the session shares)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def role_arn(self) -> str:
        """An IAM role (created on first use) for functions, state machines and tasks.

        Made in moto's IAM backend with what its CreateRole handler passes for these two
        parameters, not by a request: an IAM client would load IAM's model and endpoint rules
        for this one call (about 40 ms of a sandbox's start).
        """
        if self._role_arn is None:
            from moto.iam.models import get_account_id_from, iam_backends  # noqa: PLC0415 - mock started
            from moto.utilities.utils import get_partition  # noqa: PLC0415

            # The account moto's handlers read: MOTO_ACCOUNT_ID, else the access key's.
            key = os.environ["AWS_ACCESS_KEY_ID"]
            account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(key)
            role = iam_backends[account][get_partition(self.region)].create_role(
                role_name=_ROLE_NAME,
                assume_role_policy_document=_ASSUME_ROLE_POLICY,
                path=None,  # type: ignore[arg-type]  # the handler's, for a request without one: "/"
                permissions_boundary=None,
                description=None,  # type: ignore[arg-type]
                tags=[],
                max_session_duration=3600,  # type: ignore[arg-type]  # the handler's default, an int
            )
            self._role_arn = str(role.arn)
        return self._role_arn

    # --- resources -------------------------------------------------------------------------

    def register_lambda(
        self,
        function_name: str,
        handler: _patches_lambda.LambdaHandler,
        *,
        timeout: int = 900,
        memory_size: int = 1024,
        environment: Mapping[str, str] | None = None,
        image_uri: str | None = None,
    ) -> str:
        """Create Lambda ``function_name`` in moto and run ``handler`` in-process when invoked.

        ``image_uri``: a container-image function (``PackageType: Image``) of that image
        instead of a zip one; either way ``handler`` runs in this process.

        Returns:
            The function ARN (what ``${TaskRunnerFn}``-style placeholders are filled with).
        """
        package: dict[str, Any] = (
            {"Runtime": "python3.12", "Handler": "index.handler", "Code": {"ZipFile": _dummy_zip()}}
            if image_uri is None
            else {"PackageType": "Image", "Code": {"ImageUri": image_uri}}
        )
        response = self.client("lambda").create_function(
            FunctionName=function_name,
            Role=self.role_arn,
            Timeout=timeout,
            MemorySize=memory_size,
            Environment={"Variables": dict(environment or {})},
            **package,
        )
        self.register_lambda_handler(function_name, handler)
        return str(response["FunctionArn"])

    def register_lambda_handler(self, function_name: str, handler: _patches_lambda.LambdaHandler) -> None:
        """Route an existing function (e.g. one deployed by a template) to ``handler``."""
        _patches_lambda.register_lambda_handler(function_name, handler)
        self._lambda_names.append(function_name)

    def register_ecs_entrypoint(self, family: str, entrypoint: _patches_ecs.EcsEntrypoint) -> None:
        """Run ``entrypoint(env, command) -> exit code`` in-process for tasks of ``family``."""
        _patches_ecs.register_ecs_entrypoint(family, entrypoint)
        self._ecs_families.append(family)

    def create_bucket(self, name: str) -> None:
        """Create S3 bucket ``name`` in the harness region."""
        s3 = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})  # type: ignore[typeddict-item]

    def create_cache_table(self, name: str) -> None:
        """Create a PAY_PER_REQUEST DynamoDB table keyed by the string attribute ``pk``."""
        self.client("dynamodb").create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def create_ecs_cluster(self, name: str = "default") -> str:
        """Create an ECS cluster with the FARGATE and FARGATE_SPOT providers; return its ARN."""
        response = self.client("ecs").create_cluster(
            clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"]
        )
        return str(response["cluster"]["clusterArn"])

    def create_task_definition(
        self,
        family: str,
        *,
        container_name: str = "main",
        image: str = "stratoflow/runner:emulated",
        cpu: str = "256",
        memory: str = "512",
        environment: Mapping[str, str] | None = None,
        command: list[str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> str:
        """Register a one-container Fargate task definition (task-level memory only; ``secrets``:
        environment variable -> Secrets Manager name, injected when a task starts)."""
        container: dict[str, Any] = {
            "name": container_name,
            "image": image,
            "essential": True,
            "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
        }
        if command is not None:
            container["command"] = command
        if secrets:
            container["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
        response = self.client("ecs").register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu=cpu,
            memory=memory,
            executionRoleArn=self.role_arn,
            taskRoleArn=self.role_arn,
            containerDefinitions=[container],
        )
        return str(response["taskDefinition"]["taskDefinitionArn"])

    def register_batch_entrypoint(self, job_definition: str, entrypoint: _patches_ecs.EcsEntrypoint) -> None:
        """Run ``entrypoint(env, command)`` in-process for every job of ``job_definition`` (a name)."""
        _patches_batch.register_batch_entrypoint(job_definition, entrypoint)
        self._batch_job_definitions.append(job_definition)

    def create_batch_queue(self, name: str) -> str:
        """Create a job queue over its own (unmanaged, hence instance-less) compute environment; return its ARN."""
        batch = self.client("batch")
        environment = batch.create_compute_environment(
            computeEnvironmentName=f"{name}-env", type="UNMANAGED", serviceRole=self.role_arn
        )["computeEnvironmentArn"]
        response = batch.create_job_queue(
            jobQueueName=name,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )
        return str(response["jobQueueArn"])

    def create_job_definition(
        self,
        name: str,
        *,
        vcpus: int = 1,
        memory_mib: int = 2048,
        gpus: int = 0,
        image: str = "stratoflow/runner:emulated",
        environment: Mapping[str, str] | None = None,
        command: list[str] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> str:
        """Register a container job definition (VCPU/MEMORY/GPU resource requirements; ``secrets``:
        environment variable -> Secrets Manager name, injected when a job starts); return its ARN."""
        requirements = [{"type": "VCPU", "value": str(vcpus)}, {"type": "MEMORY", "value": str(memory_mib)}]
        if gpus:
            requirements.append({"type": "GPU", "value": str(gpus)})
        properties: dict[str, Any] = {
            "image": image,
            "resourceRequirements": requirements,
            "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
            "jobRoleArn": self.role_arn,
        }
        if command is not None:
            properties["command"] = command
        if secrets:
            properties["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
        response = self.client("batch").register_job_definition(
            jobDefinitionName=name, type="container", containerProperties=properties
        )
        return str(response["jobDefinitionArn"])

    def create_subnet(self, cidr: str = "10.0.0.0/24") -> str:
        """Create a VPC (10.0.0.0/16, no DNS hostnames) with one subnet; return the subnet id."""
        ec2 = self.client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        return str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)["Subnet"]["SubnetId"])

    def create_state_machine(
        self,
        name: str,
        definition: str | Mapping[str, Any],
        substitutions: Mapping[str, str] | None = None,
    ) -> str:
        """Create a STANDARD state machine, filling ``${Name}`` placeholders; return its ARN.

        Raises:
            errors.ConfigError: a placeholder has no substitution.
        """
        text = definition if isinstance(definition, str) else json.dumps(definition)
        text = fill_placeholders(text, substitutions or {})
        response = self.client("stepfunctions").create_state_machine(
            name=name, definition=text, roleArn=self.role_arn
        )
        return response["stateMachineArn"]

    # --- executions ------------------------------------------------------------------------

    def start_execution(self, state_machine_arn: str, input: Any, name: str | None = None) -> str:
        """Start an execution without waiting; return its ARN."""
        kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "input": json.dumps(input)}
        if name is not None:
            kwargs["name"] = name
        return self.client("stepfunctions").start_execution(**kwargs)["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 60) -> ExecutionResult:
        """Poll until ``execution_arn`` leaves RUNNING and read its result and history.

        Raises:
            TimeoutError: still RUNNING after ``timeout`` seconds (the execution is stopped).
        """
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        described = sfn.describe_execution(executionArn=execution_arn)
        while described["status"] == "RUNNING":
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=execution_arn, cause="EmulatedAws.wait timeout")
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.005)
            described = sfn.describe_execution(executionArn=execution_arn)
        events = list(self._history(execution_arn))
        output = described.get("output")
        error, cause = described.get("error"), described.get("cause")
        for event in events:
            details = event.get("executionFailedEventDetails")
            if details:
                error, cause = error or details.get("error"), cause or details.get("cause")
        return ExecutionResult(
            execution_arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output is not None else None,
            error=error,
            cause=cause,
            events=events,
            max_payload_bytes=max_payload_bytes(events),
        )

    def start_and_wait(
        self,
        state_machine_arn: str,
        input: Any,
        name: str | None = None,
        timeout: float = 60,
    ) -> ExecutionResult:
        """Start an execution with ``input`` (JSON-able) and wait for it to finish."""
        return self.wait(self.start_execution(state_machine_arn, input, name), timeout)

    def _history(self, execution_arn: str) -> Iterator[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            yield from page["events"]  # type: ignore[misc]
            if not page.get("nextToken"):
                return
            kwargs["nextToken"] = page["nextToken"]

    def runtime_errors(self) -> list[_patches_sfn.RuntimeErrorRecord]:
        """Every States.Runtime error since ``__enter__`` (AWS never lets States.ALL catch these)."""
        return _patches_sfn.runtime_errors()


class _fake_aws_env:
    """Set fake credentials and the region; restore the caller's environment on exit."""

    def __init__(self, region: str) -> None:
        self._values = {**_FAKE_ENV, "AWS_DEFAULT_REGION": region, "AWS_REGION": region}
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        unset = [k for k in os.environ if k.startswith(_UNSET_ENV_PREFIXES)]
        for key in [*self._values, *unset]:
            self._saved[key] = os.environ.get(key)
        for key in unset:
            del os.environ[key]
        os.environ.update(self._values)

    def __exit__(self, *exc: object) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
