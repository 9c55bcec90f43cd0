"""``DynamicInterpreter``: the generic state machine that runs a workflow's ``@dynamic`` sub-workflows.

A compiled workflow with a dynamic node starts this machine (``Placeholder.DYNAMIC_INTERPRETER_ARN``)
with ``states:startExecution.sync:2``; it loops the runner's ``Mode.DAG_NEXT`` and an inline
``Map`` dispatching each node by kind (``stratoflow.backends.asl.interpreter_definition``). The
stack creates one per workflow whose compiled definition names the placeholder (least privilege
per workflow: each interpreter serves one workflow). Its role may invoke that workflow's runner,
start and watch executions of itself (nested ``@dynamic``, and itself as a map node's runner),
start and watch that Distributed Map's child executions and read its item lists under its
workflow's ``runs/<workflow>/`` (the ItemReader), and run the generic Fargate task / Batch job
definitions the stack deployed for that workflow's dynamic graphs, and invoke the image functions
of the Lambda tasks with an image those graphs may call (plus the logging and X-Ray permissions
Step Functions needs); the rest of the sub-workflow's data is the runner's business.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs._sfn_rights import (
    EXECUTION_EVENTS_RULE,
    cluster_tasks_arn,
    ecs_statements,
    executions_arn,
)
from infra.constructs.batch_compute import BatchCompute, batch_jobs_arn
from infra.constructs.fargate_compute import FargateCompute
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["INTERPRETER_PLACEHOLDER", "DynamicInterpreter", "interpreter_json", "interpreter_name"]

_MACHINE_NAME_MAX = 80
INTERPRETER_PLACEHOLDER = protocol.Placeholder.DYNAMIC_INTERPRETER_ARN
"""The placeholder compiled workflows use for this machine's ARN."""


def interpreter_name(stack_name: str, workflow: str) -> str:
    """The interpreter state machine of ``workflow``'s ``@dynamic`` nodes (at most 80 characters:
    a long one keeps its start and a hash of the whole)."""
    name = f"{stack_name}-{workflow}-dynamic-interpreter"
    if len(name) <= _MACHINE_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MACHINE_NAME_MAX - 9]}-{digest}"


def interpreter_json(*, fargate: bool = False, batch: bool = False, images: bool = False) -> str:
    """The interpreter's definition exactly as deployed: sorted keys, compact (as the sandbox does)."""
    definition = asl.interpreter_definition(fargate=fargate, batch=batch, images=images)
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


class DynamicInterpreter(Construct):
    """The interpreter as a Standard state machine with logging ALL and X-Ray, invoking only the runner.

    Attributes:
        state_machine: The state machine.
        role: Its execution role.
        log_group: Where its execution history is logged (level ALL).

    Example:
        >>> interpreter = DynamicInterpreter(stack, "DynamicInterpreter", runner=runner.function)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runner: lambda_.IFunction,
        bucket: s3.IBucket,
        compute: FargateCompute | None = None,
        batch: BatchCompute | None = None,
        image_functions: Mapping[str, lambda_.IFunction] | None = None,
        image_task_definitions: Sequence[str] = (),
        workflow: str,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
    ) -> None:
        """``image_functions``: image tag -> the function running that image's Lambda tasks inside
        dynamic graphs (the item names it: ``protocol.DagNode.function``); ``image_task_definitions``:
        the placeholders, in ``compute``, of the images' generic task definitions of their Fargate
        tasks (``protocol.dynamic_task_definition``; the item names the ARN: ``DagNode.task_definition``)."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # A fixed name lets the role name the machine's own ARN (a nested @dynamic starts the
        # interpreter itself) without a reference from the role to the machine and back.
        self.workflow = workflow
        self.state_machine_name = interpreter_name(stack.stack_name, workflow)
        has_fargate = (
            compute is not None and protocol.Placeholder.DYNAMIC_TASK_DEFINITION in compute.substitutions()
        )
        has_batch = batch is not None and protocol.Placeholder.DYNAMIC_JOB_DEFINITION in batch.substitutions()
        images = dict(sorted((image_functions or {}).items()))
        definition = interpreter_json(
            fargate=has_fargate, batch=has_batch, images=bool(images or image_task_definitions)
        )
        values: dict[str, str] = {
            protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN: runner.function_arn,
            protocol.Placeholder.DATA_BUCKET: bucket.bucket_name,
        }
        values.update(compute.substitutions() if compute is not None else {})
        values.update(batch.substitutions() if batch is not None else {})
        substitutions = {name: values[name] for name in sorted(protocol.placeholders_in(definition))}
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{self.state_machine_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"stratoflow @dynamic interpreter of {workflow}: its runner, itself, its dynamic compute",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeRunner", actions=["lambda:InvokeFunction"], resources=[runner.function_arn]
            )
        )
        if images:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="InvokeImageFunctions",
                    actions=["lambda:InvokeFunction"],
                    resources=[function.function_arn for function in images.values()],
                )
            )
        for statement in self._self_statements(stack):
            self.role.add_to_policy(statement)
        items = bucket.arn_for_objects(protocol.workflow_runs_prefix(workflow) + "*")
        self.role.add_to_policy(
            iam.PolicyStatement(sid="ReadMapItems", actions=["s3:GetObject"], resources=[items])
        )
        acknowledge(
            self.role,
            "IAM5",
            f"a map node's Distributed Map reads {protocol.map_items_key('<workflow>', '<sub run>', '<node>')}, "
            f"named at run time; only the runs of {workflow} in the stack's bucket",
            finding=f"Resource::{nag_resource(self, items)}",
        )
        if has_fargate and compute is not None:
            acknowledge(
                self.role,
                "IAM5",
                "ECS task ids are assigned at RunTask; .sync stops and describes only tasks of the "
                "stack's cluster",
                finding=f"Resource::{nag_resource(self, cluster_tasks_arn(compute))}",
            )
            run = [protocol.Placeholder.DYNAMIC_TASK_DEFINITION, *sorted(image_task_definitions)]
            for statement in ecs_statements(compute, run):
                self.role.add_to_policy(statement)
        if has_batch and batch is not None:
            acknowledge(
                self.role,
                "IAM5",
                "Batch job ids are assigned at submission; .sync terminates only jobs (of this account "
                "and region) when an execution stops, and batch:DescribeJobs supports no resource-level "
                "permissions",
                finding=f"Resource::{nag_resource(self, batch_jobs_arn(stack))}",
            )
            for statement in batch.state_machine_statements(sorted(batch.substitutions())):
                self.role.add_to_policy(statement)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions=substitutions,
            role=self.role,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
            comment="stratoflow @dynamic interpreter: runs dynamic sub-workflows",
        )
        acknowledge(
            self.role,
            "IAM5",
            "CloudWatch Logs delivery (Create/Get/Update/Delete/ListLogDeliveries, resource policies) and "
            "X-Ray tracing support no resource-level permissions; Step Functions needs them for "
            "logging level ALL and tracing",
            finding="Resource::*",
        )

    def _self_statements(self, stack: Stack) -> list[iam.PolicyStatement]:
        """Start, describe and stop executions of itself (a nested or recursive ``@dynamic``, a map
        node's runner) and the child executions of a map runner's Distributed Map."""
        arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        executions = executions_arn(stack, self.state_machine_name)
        children = executions_arn(stack, self.state_machine_name, children=True)  # a map runner's
        acknowledge(
            self.role,
            "IAM5",
            "nested @dynamic executions are named after the sub run at run time; only executions of "
            "this interpreter state machine",
            finding=f"Resource::{nag_resource(self, executions)}",
        )
        acknowledge(
            self.role,
            "IAM5",
            "Distributed Map child executions (a dynamic graph's map node) are named by the Map Run at "
            "run time; only executions of this interpreter state machine",
            finding=f"Resource::{nag_resource(self, children)}",
        )
        rule = stack.format_arn(service="events", resource="rule", resource_name=EXECUTION_EVENTS_RULE)
        return [
            iam.PolicyStatement(sid="StartItself", actions=["states:StartExecution"], resources=[arn]),
            iam.PolicyStatement(
                sid="ManageOwnExecutions",
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[executions, children],
            ),
            iam.PolicyStatement(
                sid="SyncExecutionEventsRule",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[rule],
            ),
        ]
