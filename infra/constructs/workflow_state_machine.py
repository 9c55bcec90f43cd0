"""``WorkflowStateMachine``: one compiled workflow as a Standard state machine, its IR in S3, least-privilege IAM.

The IR upload is an ``AwsCustomResource`` calling ``s3:PutObject`` with the spec JSON as
the body, rather than an ``s3_deployment.BucketDeployment`` or a copy inside the runner
bundle:

- ``BucketDeployment`` stages a zip per source plus a ~20 MB AWS CLI layer in every
  synth, and its handler needs ``s3:DeleteObject*``/``s3:PutObject*`` on the bucket and
  the asset bucket; the custom resource here gets exactly ``s3:PutObject`` on the one
  content-addressed key, and the spec is visible (and diffable) in the template;
- a copy in the runner bundle would need a runtime change (``stratoflow.runtime`` reads
  specs from S3 only) and would leave Fargate containers, built from another artifact,
  reading a different copy.

Keys are content addressed (``protocol.spec_key``), so an update writes a new
key and never changes an object a running execution reads; nothing is deleted with the
stack, for the same reason. The state machine depends on the upload, so no execution can
start before its IR exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs._props import raise_if_problems
from infra.constructs._sfn_rights import (
    ECS_EVENTS_RULE,
    EXECUTION_EVENTS_RULE,
    child_execution_statements,
    cluster_tasks_arn,
    interpreter_statements,
    own_runs,
    runner_statements,
)
from infra.constructs.actor_pool import ActorPools
from infra.constructs.batch_compute import BatchCompute, batch_jobs_arn
from infra.constructs.dynamic_interpreter import INTERPRETER_PLACEHOLDER, DynamicInterpreter
from infra.constructs.fargate_compute import FargateCompute
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = [
    "ECS_EVENTS_RULE",
    "EXECUTION_EVENTS_RULE",
    "WorkflowStateMachine",
    "pascal_case",
]

_FIXED = (protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN, protocol.Placeholder.DATA_BUCKET)


def pascal_case(name: str) -> str:
    """``sales_report`` -> ``SalesReport`` (CloudFormation logical ids are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _uses_distributed_map(definition: dict[str, Any]) -> bool:
    return any(
        node.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        for node in _walk(definition)
        if isinstance(node.get("ProcessorConfig"), dict)
    )


class WorkflowStateMachine(Construct):
    """A compiled workflow deployed as it was compiled, with logging ALL, X-Ray, an alarm and its IR.

    The definition goes in as the compiled string (``DefinitionBody.from_string``) with
    ``definition_substitutions`` for every ``${...}`` placeholder, so the template holds
    the exact compiled ASL and cfn-lint validates it. The role gets only what the
    definition uses: invoke its workflow's runner (each workflow has its own runner functions,
    task definitions and interpreter, so it invokes no other workflow's); for a Distributed Map,
    read its item lists under ``runs/<workflow>/`` and start/describe/stop its own child
    executions; for Fargate nodes, run
    exactly its task definitions in the cluster, pass their two roles to ECS, stop and
    describe the cluster's tasks, and manage the EventBridge rule ``.sync`` relies on; for
    ``@dynamic`` nodes, start the shared interpreter, describe and stop its executions, and
    manage the EventBridge rule ``startExecution.sync:2`` relies on.

    Attributes:
        state_machine: The state machine.
        role: Its execution role.
        log_group: Where its execution history is logged (level ALL).
        failed_alarm: Alarm on failed executions (no action: subscribe one as needed).
        spec_upload: The custom resource that writes the IR to S3.

    Example:
        >>> WorkflowStateMachine(stack, "Training", compiled=asl.compile_workflow(spec),
        ...     runner=runner.function, bucket=payload.bucket, compute=compute)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        compiled: asl.CompiledWorkflow,
        runner: lambda_.IFunction,
        bucket: s3.IBucket,
        compute: FargateCompute | None = None,
        batch: BatchCompute | None = None,
        interpreter: DynamicInterpreter | None = None,
        image_functions: Mapping[str, lambda_.IFunction] | None = None,
        actors: ActorPools | None = None,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        failed_executions_threshold: int = defaults.FAILED_EXECUTIONS_ALARM_THRESHOLD,
    ) -> None:
        image_functions = dict(image_functions or {})
        problems = _unfilled_placeholders(
            compiled, compute, batch, interpreter, image_functions=image_functions, actors=actors
        )
        if failed_executions_threshold < 1:
            problems.append(
                f"failed_executions_threshold must be at least 1, got {failed_executions_threshold}"
            )
        raise_if_problems("WorkflowStateMachine", problems)
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        values: dict[str, str] = {
            protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN: runner.function_arn,
            protocol.Placeholder.DATA_BUCKET: bucket.bucket_name,
        }
        if compute is not None:
            values.update(compute.substitutions())
        if batch is not None:
            values.update(batch.substitutions())
        if interpreter is not None:
            values[INTERPRETER_PLACEHOLDER] = interpreter.state_machine.state_machine_arn
        values.update({name: function.function_arn for name, function in image_functions.items()})
        if actors is not None:
            values.update(actors.substitutions())
        substitutions = {name: values[name] for name in compiled.placeholders}

        self.spec_upload = cr.AwsCustomResource(
            self,
            "SpecUpload",
            on_create=self._put_spec(compiled, bucket),
            on_update=self._put_spec(compiled, bucket),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["s3:PutObject"], resources=[bucket.arn_for_objects(compiled.spec_key)]
                    )
                ]
            ),
            install_latest_aws_sdk=False,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # /aws/vendedlogs/ keeps CloudWatch's resource policy from growing per state machine.
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-{compiled.name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"stratoflow workflow {compiled.name}: only what its compiled definition calls",
        )
        for statement in runner_statements(compiled, runner, bucket, compute):
            self.role.add_to_policy(statement)
        used = sorted(name for name in compiled.placeholders if name in image_functions)
        if used:
            # Only the image functions its definition names (unqualified ARNs, as invoked).
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="InvokeImageRunners",
                    actions=["lambda:InvokeFunction"],
                    resources=[image_functions[name].function_arn for name in used],
                )
            )
        self._add_service_statements(stack, compiled, batch, interpreter, actors)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(compiled.deployed_json()),
            definition_substitutions=substitutions,
            role=self.role,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
            comment=f"stratoflow workflow {compiled.name}",
        )
        self.state_machine.node.add_dependency(self.spec_upload)
        self._acknowledge_findings(stack, compiled, bucket, compute)
        if _uses_distributed_map(compiled.definition):
            # A separate policy: statements naming the machine's own ARN inside the role's
            # default policy would make the machine depend on itself.
            self.child_executions_policy = iam.Policy(
                self,
                "ChildExecutions",
                statements=child_execution_statements(self, self.state_machine, stack),
                roles=[self.role],
            )
        self.failed_alarm = cloudwatch.Alarm(
            self,
            "FailedExecutions",
            metric=self.state_machine.metric_failed(period=Duration.minutes(5), statistic="Sum"),
            threshold=failed_executions_threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"stratoflow workflow {compiled.name}: executions failed",
        )

    def _add_service_statements(
        self,
        stack: Stack,
        compiled: asl.CompiledWorkflow,
        batch: BatchCompute | None,
        interpreter: DynamicInterpreter | None,
        actors: ActorPools | None,
    ) -> None:
        """Batch, ``@dynamic`` and actor rights, each only when the definition uses it."""
        statements: list[iam.PolicyStatement] = []
        if batch is not None and any(
            protocol.is_batch_job_definition(name) for name in compiled.placeholders
        ):
            statements.extend(self._batch_statements(stack, compiled, batch))
        if interpreter is not None and INTERPRETER_PLACEHOLDER in compiled.placeholders:
            statements.extend(interpreter_statements(self, self.role, stack, interpreter))
        if actors is not None:
            statements.extend(actors.send_statements(compiled.placeholders))
        for statement in statements:
            self.role.add_to_policy(statement)

    def _acknowledge_findings(
        self, stack: Stack, compiled: asl.CompiledWorkflow, bucket: s3.IBucket, compute: FargateCompute | None
    ) -> None:
        acknowledge(
            self.role,
            "IAM5",
            "CloudWatch Logs delivery (Create/Get/Update/Delete/ListLogDeliveries, resource policies) and "
            "X-Ray tracing support no resource-level permissions; Step Functions needs them for "
            "logging level ALL and tracing",
            finding="Resource::*",
        )
        if protocol.Placeholder.DATA_BUCKET in compiled.placeholders:
            acknowledge(
                self.role,
                "IAM5",
                "the Distributed Map's ItemReader reads "
                f"{protocol.map_items_key(compiled.name, '<execution>', '<node>')}, named at run time; "
                "only this workflow's runs in the stack's bucket",
                finding=f"Resource::{nag_resource(self, own_runs(compiled, bucket))}",
            )
        if compute is not None and any(protocol.is_task_definition(p) for p in compiled.placeholders):
            acknowledge(
                self.role,
                "IAM5",
                "ECS task ids are assigned at run time; .sync stops and describes only tasks of this cluster",
                finding=f"Resource::{nag_resource(self, cluster_tasks_arn(compute))}",
            )
        # The AwsCustomResource provider is one CDK singleton function per stack.
        provider = stack.node.try_find_child(
            "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        )
        if provider is not None:
            acknowledge(
                provider,
                "IAM4",
                "CDK's AwsCustomResource provider uses AWSLambdaBasicExecutionRole (create its log group "
                "and write its logs); its S3 rights are per-key policies written by this construct",
                finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            )

    @staticmethod
    def _put_spec(compiled: asl.CompiledWorkflow, bucket: s3.IBucket) -> cr.AwsSdkCall:
        return cr.AwsSdkCall(
            service="S3",
            action="PutObject",
            parameters={
                "Bucket": bucket.bucket_name,
                "Key": compiled.spec_key,
                "Body": compiled.spec_json.decode(),
                "ContentType": "application/json",
            },
            physical_resource_id=cr.PhysicalResourceId.of(compiled.spec_key),
        )

    def _batch_statements(
        self, stack: Stack, compiled: asl.CompiledWorkflow, batch: BatchCompute
    ) -> list[iam.PolicyStatement]:
        acknowledge(
            self.role,
            "IAM5",
            "Batch job ids are assigned at submission; .sync terminates only jobs (of this account and "
            "region) when an execution stops, and batch:DescribeJobs supports no resource-level permissions",
            finding=f"Resource::{nag_resource(self, batch_jobs_arn(stack))}",
        )
        return batch.state_machine_statements(compiled.placeholders)


def _unfilled_placeholders(
    compiled: asl.CompiledWorkflow,
    compute: FargateCompute | None,
    batch: BatchCompute | None,
    interpreter: DynamicInterpreter | None,
    *,
    image_functions: Mapping[str, lambda_.IFunction],
    actors: ActorPools | None = None,
) -> list[str]:
    """The problem (at most one) of placeholders no given construct fills, with what to pass."""
    available = set(_FIXED) | (set(compute.substitutions()) if compute else set()) | set(image_functions)
    available |= set(actors.substitutions()) if actors else set()
    available |= set(batch.substitutions()) if batch else set()
    if interpreter is not None:
        available.add(INTERPRETER_PLACEHOLDER)
    unfilled = [name for name in compiled.placeholders if name not in available]
    if not unfilled:
        return []
    hints = []
    batch_names = [n for n in unfilled if protocol.is_batch_queue(n) or protocol.is_batch_job_definition(n)]
    actor_names = [n for n in unfilled if protocol.is_actor_queue(n)]
    fargate = [
        n
        for n in unfilled
        if n != INTERPRETER_PLACEHOLDER
        and n not in batch_names
        and n not in actor_names
        and not protocol.is_image_function(n)
    ]
    if compute is None and fargate:
        hints.append("Fargate nodes need compute=FargateCompute(...)")
    if batch is None and batch_names:
        hints.append("AWS Batch nodes need batch=BatchCompute(...)")
    if INTERPRETER_PLACEHOLDER in unfilled:
        hints.append("@dynamic nodes need interpreter=DynamicInterpreter(...)")
    if any(protocol.is_image_function(n) for n in unfilled):
        hints.append(
            "Lambda tasks with an image need image_functions={placeholder: ImageFunction(...).function}"
        )
    if actor_names:
        hints.append("actor tasks need actors=ActorPools(...) with their environments")
    hint = f" ({'; '.join(hints)})" if hints else ""
    return [
        f"workflow {compiled.name!r} uses placeholders nothing here can fill: {', '.join(unfilled)}{hint}"
    ]
