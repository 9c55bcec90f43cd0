"""The IAM statements a workflow's state machine needs for each service its definition drives.

Kept apart from ``WorkflowStateMachine`` (which decides *whether* a definition uses a service) so
the interpreter state machine of ``@dynamic`` graphs grants Fargate the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs.fargate_compute import FargateCompute
from stratoflow.backends import asl
from stratoflow.ir import protocol

if TYPE_CHECKING:  # it imports this module
    from infra.constructs.dynamic_interpreter import DynamicInterpreter

__all__ = [
    "ECS_EVENTS_RULE",
    "EXECUTION_EVENTS_RULE",
    "child_execution_statements",
    "cluster_tasks_arn",
    "ecs_statements",
    "executions_arn",
    "interpreter_statements",
    "own_runs",
    "runner_statements",
]

ECS_EVENTS_RULE = "StepFunctionsGetEventsForECSTaskRule"
"""The managed EventBridge rule through which Step Functions learns that an ECS task stopped (``.sync``)."""
EXECUTION_EVENTS_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"
"""The managed EventBridge rule through which Step Functions learns that a started execution ended
(``startExecution.sync:2``)."""


def own_runs(compiled: asl.CompiledWorkflow, bucket: s3.IBucket) -> str:
    """The objects of this workflow's runs (``runs/<workflow>/*``): all its state machine reads."""
    return bucket.arn_for_objects(f"{protocol.workflow_runs_prefix(compiled.name)}*")


def runner_statements(
    compiled: asl.CompiledWorkflow,
    runner: lambda_.IFunction,
    bucket: s3.IBucket,
    compute: FargateCompute | None,
) -> list[iam.PolicyStatement]:
    """Invoke the runner and read the map item lists, when the definition does; run its Fargate tasks."""
    statements = []
    if protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN in compiled.placeholders:
        # Only the unqualified ARN, which is what the definition invokes.
        statements.append(
            iam.PolicyStatement(
                sid="InvokeRunner", actions=["lambda:InvokeFunction"], resources=[runner.function_arn]
            )
        )
    if protocol.Placeholder.DATA_BUCKET in compiled.placeholders:
        statements.append(
            iam.PolicyStatement(
                sid="ReadMapItems",
                actions=["s3:GetObject"],
                resources=[own_runs(compiled, bucket)],
            )
        )
    task_definitions = [name for name in compiled.placeholders if protocol.is_task_definition(name)]
    if compute is not None and task_definitions:
        statements.extend(ecs_statements(compute, task_definitions))
    return statements


def executions_arn(stack: Stack, machine_name: str, *, children: bool = False) -> str:
    """Every execution of state machine ``machine_name`` (``<name>:*``), or with ``children`` its
    Distributed Map children (``<name>/<map run label>:<id>``): both are named at run time."""
    return stack.format_arn(
        service="states",
        resource="execution",
        resource_name=f"{machine_name}/*" if children else f"{machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def interpreter_statements(
    scope: Construct, role: iam.IRole, stack: Stack, interpreter: DynamicInterpreter
) -> list[iam.PolicyStatement]:
    """Start the ``@dynamic`` interpreter, watch and stop its executions (``startExecution.sync:2``)."""
    executions = executions_arn(stack, interpreter.state_machine.state_machine_name)
    acknowledge(
        role,
        "IAM5",
        "@dynamic sub-workflow executions are named after the sub run at run time; "
        "only executions of the stack's interpreter state machine",
        finding=f"Resource::{nag_resource(scope, executions)}",
    )
    return [
        iam.PolicyStatement(
            sid="StartInterpreter",
            actions=["states:StartExecution"],
            resources=[interpreter.state_machine.state_machine_arn],
        ),
        iam.PolicyStatement(
            sid="ManageInterpreterExecutions",
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[executions],
        ),
        iam.PolicyStatement(
            sid="SyncExecutionEventsRule",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[
                stack.format_arn(service="events", resource="rule", resource_name=EXECUTION_EVENTS_RULE)
            ],
        ),
    ]


def child_execution_statements(
    scope: Construct, state_machine: sfn.StateMachine, stack: Stack
) -> list[iam.PolicyStatement]:
    """Start, watch and stop the Distributed Map child executions of ``state_machine`` itself."""
    executions = executions_arn(stack, state_machine.state_machine_name, children=True)
    acknowledge(
        scope,
        "IAM5",
        "Distributed Map child executions are named by the Map Run at run time; "
        "only executions of this state machine",
        finding=f"Resource::{nag_resource(scope, executions)}",
    )
    return [
        iam.PolicyStatement(
            sid="StartMapChildren",
            actions=["states:StartExecution"],
            resources=[state_machine.state_machine_arn],
        ),
        iam.PolicyStatement(
            sid="ManageMapChildren",
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[executions],
        ),
    ]


def cluster_tasks_arn(compute: FargateCompute) -> str:
    """Every task of the stack's cluster (task ids are assigned at RunTask)."""
    return Stack.of(compute).format_arn(
        service="ecs",
        resource="task",
        resource_name=f"{compute.cluster.cluster_name}/*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def ecs_statements(compute: FargateCompute, task_definitions: list[str]) -> list[iam.PolicyStatement]:
    """Run exactly ``task_definitions`` in the cluster, pass their roles, and the ``.sync`` rule."""
    stack = Stack.of(compute)
    cluster_tasks = cluster_tasks_arn(compute)
    events_rule = stack.format_arn(service="events", resource="rule", resource_name=ECS_EVENTS_RULE)
    return [
        iam.PolicyStatement(
            sid="RunTaskDefinitions",
            actions=["ecs:RunTask"],
            resources=[compute.task_definitions[name].task_definition_arn for name in task_definitions],
            conditions={"ArnEquals": {"ecs:cluster": compute.cluster.cluster_arn}},
        ),
        iam.PolicyStatement(
            sid="PassTaskRoles",
            actions=["iam:PassRole"],
            resources=[compute.task_role.role_arn, compute.execution_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            sid="WatchClusterTasks",
            actions=["ecs:StopTask", "ecs:DescribeTasks"],
            resources=[cluster_tasks],
        ),
        iam.PolicyStatement(
            sid="SyncEventsRule",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[events_rule],
        ),
    ]
