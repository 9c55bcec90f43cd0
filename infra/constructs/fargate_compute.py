"""``FargateCompute``: the VPC, ECS cluster and task definitions for nodes routed to Fargate / Fargate Spot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from infra.constructs.task_secrets import container_secrets, secrets_execution_role
from stratoflow import ir, routing
from stratoflow.ir import protocol

__all__ = ["FargateCompute", "FargateShape"]

_VALID_PAIRS = frozenset((int(cpu * 1024), memory) for cpu, memory in routing.FARGATE_SHAPES)
_MAX_EPHEMERAL_GIB = 200


@dataclass(frozen=True)
class FargateShape:
    """One task definition's size, named by its ASL placeholder (``TaskDef_cpu8_mem32768``).

    Attributes:
        placeholder: The ``${...}`` name the compiled ASL uses for this task definition.
        cpu_units: Fargate CPU units (1024 per vCPU).
        memory_mib: Task memory.
        ephemeral_storage_gib: Task disk; ``None`` keeps Fargate's default 21 GiB.
        image: The task's own image (task definitions exist per image and shape); ``None``
            runs the construct's shared ``image``.
        secrets: The secrets its tasks request: the container gets them from Secrets Manager,
            read by an execution role of this task definition's own (``task_secrets``).
    """

    placeholder: str
    cpu_units: int
    memory_mib: int
    ephemeral_storage_gib: int | None = None
    image: ecs.ContainerImage | None = None
    secrets: tuple[ir.SecretRequest, ...] = ()


class FargateCompute(Construct):
    """A VPC, an ECS cluster with FARGATE and FARGATE_SPOT capacity providers, and one task definition per shape.

    Networking: two AZs (the compiled ASL passes two private subnets), tasks in private
    subnets without public IPs, and one NAT gateway for egress. The alternative, an
    isolated VPC with interface endpoints, needs at least ECR API, ECR Docker and
    CloudWatch Logs endpoints in each AZ (six endpoint-hours against one NAT gateway-hour)
    and still cuts user code off from package indexes and third-party APIs, which
    batch tasks commonly call. The bulk traffic, S3 and DynamoDB, goes through free
    gateway endpoints and never through the NAT gateway.

    Tasks run on x86_64 (Fargate Spot has no Arm capacity). Every task definition has one
    container named ``task`` (the name the compiled ``ContainerOverrides`` use) running
    ``stratoflow_functions.container_entrypoint``; all share one task role, to which the stack adds
    the data-plane grants, and one execution role (image pull, logs).

    Least privilege per workflow: the stack makes one instance with no shapes (the shared VPC,
    cluster, security group, execution role and logs, no task role) and one per workflow with
    ``network=`` that one: the workflow's own task role and task definitions in the shared network.

    Attributes:
        vpc: The VPC.
        cluster: The ECS cluster.
        security_group: The tasks' security group (no ingress).
        task_role: Role of the running tasks (none on a network-only instance).
        execution_role: Role ECS uses to pull the image and write logs.
        task_definitions: Task definition per placeholder name (``TaskDef_cpu8_mem32768``).

    Example:
        >>> compute = FargateCompute(stack, "Compute", image=ecs.ContainerImage.from_registry("me/img:1"),
        ...     shapes=[FargateShape("TaskDef_cpu8_mem32768", 8192, 32768)], environment={})  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shapes: list[FargateShape],
        image: ecs.ContainerImage | None,
        environment: Mapping[str, str],
        max_azs: int = defaults.MAX_AZS,
        nat_gateways: int = defaults.NAT_GATEWAYS,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        network: FargateCompute | None = None,
    ) -> None:
        problems = _problems(shapes, image, max_azs=max_azs, nat_gateways=nat_gateways)
        raise_if_problems("FargateCompute", problems)
        super().__init__(scope, construct_id)

        self._task_role: iam.Role | None = None
        if network is not None:
            # A workflow's own task role and task definitions in the shared VPC and cluster.
            self.vpc: ec2.Vpc = network.vpc
            self.cluster: ecs.Cluster = network.cluster
            self.security_group: ec2.SecurityGroup = network.security_group
            self.log_group: logs.LogGroup = network.log_group
            self.execution_role: iam.Role = network.execution_role
        else:
            self._add_network(max_azs=max_azs, nat_gateways=nat_gateways, log_retention=log_retention)
        if network is not None or shapes:
            self._task_role = iam.Role(
                self,
                "TaskRole",
                assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                description="stratoflow Fargate tasks; data-plane grants added by the stack",
            )
        self.task_definitions: dict[str, ecs.FargateTaskDefinition] = {}
        for shape in sorted(shapes, key=lambda s: s.placeholder):
            task_definition = ecs.FargateTaskDefinition(
                self,
                shape.placeholder,
                cpu=shape.cpu_units,
                memory_limit_mib=shape.memory_mib,
                ephemeral_storage_gib=shape.ephemeral_storage_gib,
                runtime_platform=ecs.RuntimePlatform(
                    cpu_architecture=ecs.CpuArchitecture.X86_64,
                    operating_system_family=ecs.OperatingSystemFamily.LINUX,
                ),
                task_role=self.task_role,
                execution_role=self._execution_role(shape),
            )
            # A task-scoped (ephemeral storage) volume: the only writable path of a container
            # whose root filesystem is read-only; TMPDIR points the runtime's temp files at it.
            task_definition.add_volume(name=defaults.CONTAINER_SCRATCH_VOLUME)
            container = task_definition.add_container(
                protocol.CONTAINER_NAME,
                container_name=protocol.CONTAINER_NAME,
                image=cast("ecs.ContainerImage", shape.image or image),  # checked above
                command=list(defaults.CONTAINER_COMMAND),
                environment={**environment, **defaults.CONTAINER_SCRATCH_ENVIRONMENT},
                logging=ecs.LogDrivers.aws_logs(stream_prefix=shape.placeholder, log_group=self.log_group),
                essential=True,
                user=defaults.CONTAINER_USER,
                readonly_root_filesystem=True,
                secrets=container_secrets(task_definition, shape.secrets) or None,
            )
            container.add_mount_points(
                ecs.MountPoint(
                    container_path=defaults.CONTAINER_SCRATCH_DIR,
                    source_volume=defaults.CONTAINER_SCRATCH_VOLUME,
                    read_only=False,
                )
            )
            self.task_definitions[shape.placeholder] = task_definition
            acknowledge(
                task_definition,
                "ECS2",
                "the environment holds only resource names (bucket, table, cache TTL), no secrets; "
                "per-node values come from the state machine's ContainerOverrides",
            )
        if network is not None:
            return
        acknowledge(
            self.execution_role,
            "IAM5",
            "ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are "
            "limited to the image's repository",
            finding="Resource::*",
        )

    def _add_network(self, *, max_azs: int, nat_gateways: int, log_retention: logs.RetentionDays) -> None:
        """The VPC, cluster, security group, task logs and execution role every task shares."""
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=max_azs,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="tasks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=self.vpc,
            description="stratoflow tasks: no ingress, HTTPS egress only (AWS APIs, package indexes via NAT)",
            allow_all_outbound=False,
        )
        # Every AWS API the runner calls (S3 and DynamoDB through the gateway endpoints, ECR,
        # logs) and the package indexes user code may reach are HTTPS; DNS goes to the VPC
        # resolver, which security groups never filter.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(defaults.HTTPS_PORT), "HTTPS to AWS APIs and the internet"
        )
        self.log_group = logs.LogGroup(
            self, "TaskLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="ECS agent for stratoflow tasks: image pull and logs",
        )

    @property
    def task_role(self) -> iam.Role:
        """Role of the running tasks (a network-only instance, no shapes and no ``network``, has none)."""
        if self._task_role is None:
            raise ValueError(f"{self.node.path} is the shared network only: it has no task role")
        return self._task_role

    def _execution_role(self, shape: FargateShape) -> iam.Role:
        """The shared execution role, or, for a shape with secrets, one of its own: the secrets'
        read grant then sits on no role another task definition uses."""
        if not shape.secrets:
            return self.execution_role
        return secrets_execution_role(self, shape.placeholder, "tasks")

    def substitutions(self) -> dict[str, str]:
        """Values for the Fargate placeholders of compiled ASL (cluster, subnets, security group, task definitions)."""
        subnets = self.vpc.private_subnets
        values: dict[str, str] = {
            protocol.Placeholder.CLUSTER_ARN: self.cluster.cluster_arn,
            protocol.Placeholder.TASK_SECURITY_GROUP: self.security_group.security_group_id,
            **{name: subnet.subnet_id for name, subnet in zip(protocol.SUBNETS, subnets, strict=False)},
        }
        values.update({name: td.task_definition_arn for name, td in self.task_definitions.items()})
        return values


def _problems(
    shapes: list[FargateShape], image: ecs.ContainerImage | None, *, max_azs: int, nat_gateways: int
) -> list[str]:
    problems = []
    if max_azs < defaults.MAX_AZS:
        problems.append(
            f"max_azs must be at least {defaults.MAX_AZS} (the ASL names two subnets), got {max_azs}"
        )
    if nat_gateways < 1:
        problems.append(f"nat_gateways must be at least 1 (tasks pull images over it), got {nat_gateways}")
    for shape in shapes:
        if not protocol.is_task_definition(shape.placeholder):
            problems.append(
                f"shape placeholder {shape.placeholder!r} must start with {protocol.TASK_DEFINITION_PREFIX!r}"
            )
        if (shape.cpu_units, shape.memory_mib) not in _VALID_PAIRS:
            problems.append(
                f"{shape.placeholder}: {shape.cpu_units} CPU units with {shape.memory_mib} MiB "
                "is not a valid Fargate size"
            )
        gib = shape.ephemeral_storage_gib
        if gib is not None and not defaults.DEFAULT_FARGATE_EPHEMERAL_GIB <= gib <= _MAX_EPHEMERAL_GIB:
            problems.append(f"{shape.placeholder}: ephemeral_storage_gib must be within 21..200, got {gib}")
    if image is None and any(shape.image is None for shape in shapes):
        problems.append("image is required: some shapes have no image of their own")
    duplicates = sorted(
        {s.placeholder for s in shapes if [t.placeholder for t in shapes].count(s.placeholder) > 1}
    )
    if duplicates:
        problems.append(f"duplicate shapes: {', '.join(duplicates)}")
    return problems
