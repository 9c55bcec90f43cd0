"""``DynamicInterpreter``: the one generic state machine that runs every ``@dynamic`` sub-workflow.

A compiled workflow with a dynamic node starts this machine (``Placeholder.DYNAMIC_INTERPRETER_ARN``)
with ``states:startExecution.sync:2``; it loops the runner's ``Mode.DAG_NEXT`` and an inline
``Map`` of ``Mode.DAG_RUN`` (``stratoflow.backends.asl.interpreter_definition``). The stack
creates it once, only when some compiled workflow names the placeholder, and every such
workflow shares it. Its role may only invoke the runner (plus the logging and X-Ray
permissions Step Functions needs); the sub-workflow's data is the runner's business.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["INTERPRETER_PLACEHOLDER", "DynamicInterpreter", "interpreter_json"]

INTERPRETER_PLACEHOLDER = protocol.Placeholder.DYNAMIC_INTERPRETER_ARN
"""The placeholder compiled workflows use for this machine's ARN."""


def interpreter_json() -> str:
    """The interpreter's definition exactly as deployed: sorted keys, compact (as the sandbox does)."""
    return json.dumps(asl.interpreter_definition(), sort_keys=True, separators=(",", ":"))


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
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-dynamic-interpreter",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="stratoflow @dynamic interpreter: invokes the task runner only",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeRunner", actions=["lambda:InvokeFunction"], resources=[runner.function_arn]
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(interpreter_json()),
            definition_substitutions={protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN: runner.function_arn},
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
