"""``ActorPools``: per ``ActorEnvironment``, an SQS queue and a Fargate worker task definition.

An actor task's state sends its event to its environment's queue (``.waitForTaskToken``); the
runner's ensure step starts workers of the environment's task definition when too few run; a
worker polls only its own queue, answers the state with ``SendTaskSuccess`` / ``Failure`` /
``Heartbeat``, and exits when idle, so an idle environment is an empty queue and no task.
A worker runs its environment's ``container_image`` (what its tasks import), else the stack's
shared image.

IAM, least privilege per environment and per workflow (the stack makes one ``ActorPools`` per
workflow, so each workflow has its own queue and workers of each environment it uses):

* each environment's workers have their own task role: consume *their* queue, answer task
  tokens (``states:SendTask*`` has no resource-level permissions), and the data plane every
  container task of its workflow has (``grant_runner_data``);
* the runner may ``ecs:RunTask`` only these task definitions, only in the stack's cluster, pass
  only their roles to ECS, and list the cluster's tasks (``ecs:ListTasks`` is authorised on the
  cluster condition only);
* a workflow's role may ``sqs:SendMessage`` only to the queues its definition names
  (:meth:`ActorPools.send_statements`);
* an environment whose tasks request secrets has them in its worker container (``secrets``), read
  by an execution role of that task definition's own; the worker role reads none. Its tasks share
  its workers, so each of them can see every secret of the environment, as in one Flyte actor pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_dynamodb import ITable
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._grants import grant_runner_data
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from infra.constructs.fargate_compute import FargateCompute
from infra.constructs.task_secrets import container_secrets, secrets_execution_role
from stratoflow import ir, routing
from stratoflow.ir import protocol

__all__ = ["WORKER_COMMAND", "ActorPoolSpec", "ActorPools"]

WORKER_COMMAND = ("python", "-m", "stratoflow_functions.actor_worker")
_VALID_PAIRS = frozenset((int(cpu * 1024), memory) for cpu, memory in routing.FARGATE_SHAPES)
_SPOT_WARNING = Duration.seconds(120)  # Fargate Spot's notice: the task in flight may finish


@dataclass(frozen=True)
class ActorPoolSpec:
    """One environment's workers: its name, size, idle time and capacity.

    Attributes:
        name: The ``ActorEnvironment`` name.
        ttl_seconds: How long an idle worker lives.
        cpu_units: Worker CPU (1024 per vCPU), a valid Fargate pair with ``memory_mib``.
        memory_mib: Worker memory.
        spot: Run the workers on Fargate Spot (an interruptible environment).
        image: The environment's ``container_image`` (its workers run it), or ``None`` for the
            stack's shared image.
        secrets: Every secret its tasks request: the workers' container gets them from Secrets
            Manager, read by an execution role of the worker task definition's own.
    """

    name: str
    ttl_seconds: int
    cpu_units: int
    memory_mib: int
    spot: bool = False
    image: ir.ImageRef | None = None
    secrets: tuple[ir.SecretRequest, ...] = ()


class ActorPools(Construct):
    """A queue and a worker task definition per actor environment (see the module docstring).

    A worker runs ``images[name]`` (its environment's ``container_image``) when given, else the
    shared ``image``.

    Attributes:
        queues: Queue per environment name.
        task_definitions: Worker task definition per environment name.
        worker_roles: Worker task role per environment name.
        setting: What the runner's ensure step reads (``protocol.ENV_ACTORS``).

    Example:
        >>> ActorPools(stack, "Actors", pools=[ActorPoolSpec("scorers", 60, 1024, 2048)],
        ...     compute=compute, image=image, images={}, environment={}, runner_role=runner.role,
        ...     bucket=bucket, table=table, spec_keys=keys, workflow="nightly")  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pools: Sequence[ActorPoolSpec],
        compute: FargateCompute,
        image: ecs.ContainerImage | None,
        images: Mapping[str, ecs.ContainerImage],
        environment: Mapping[str, str],
        runner_role: iam.IRole,
        bucket: s3.IBucket,
        table: ITable,
        spec_keys: Sequence[str],
        workflow: str,
    ) -> None:
        problems = []
        slugs = [protocol.actor_slug(p.name) for p in pools]
        clashing = sorted({p.name for p in pools if slugs.count(protocol.actor_slug(p.name)) > 1})
        if clashing:
            problems.append(
                f"actor environments {', '.join(clashing)} differ only in '-' versus '_': rename one"
            )
        for pool in pools:
            if (pool.cpu_units, pool.memory_mib) not in _VALID_PAIRS:
                problems.append(
                    f"actor environment '{pool.name}': {pool.cpu_units} CPU units with "
                    f"{pool.memory_mib} MiB is not a valid Fargate size"
                )
            if image is None and pool.name not in images:
                problems.append(
                    f"actor environment '{pool.name}': no worker image (neither its own nor the shared one)"
                )
        raise_if_problems("ActorPools", problems)
        super().__init__(scope, construct_id)
        self.workflow = workflow
        self.queues: dict[str, sqs.Queue] = {}
        self.task_definitions: dict[str, ecs.FargateTaskDefinition] = {}
        self.worker_roles: dict[str, iam.Role] = {}
        settings: dict[str, protocol.ActorPool] = {}
        subnets = [subnet.subnet_id for subnet in compute.vpc.private_subnets[: len(protocol.SUBNETS)]]
        for pool in sorted(pools, key=lambda p: p.name):
            slug = protocol.actor_slug(pool.name)
            # An environment with a container_image runs its workers on it (its packages).
            worker_image = images.get(pool.name) or image
            assert worker_image is not None  # noqa: S101 - raise_if_problems raised otherwise
            queue, role, task_definition = self._pool(
                pool,
                slug=slug,
                compute=compute,
                image=worker_image,
                environment=environment,
                bucket=bucket,
                table=table,
                spec_keys=spec_keys,
            )
            self.queues[pool.name] = queue
            self.worker_roles[pool.name] = role
            self.task_definitions[pool.name] = task_definition
            settings[slug] = protocol.ActorPool(
                cluster=compute.cluster.cluster_arn,
                task_definition=task_definition.task_definition_arn,
                subnets=subnets,
                security_groups=[compute.security_group.security_group_id],
                spot=pool.spot,
            )
        self.setting = protocol.ActorPools(pools=settings)
        self._grant_ensure(runner_role, compute)

    def _pool(
        self,
        pool: ActorPoolSpec,
        *,
        slug: str,
        compute: FargateCompute,
        image: ecs.ContainerImage,
        environment: Mapping[str, str],
        bucket: s3.IBucket,
        table: ITable,
        spec_keys: Sequence[str],
    ) -> tuple[sqs.Queue, iam.Role, ecs.FargateTaskDefinition]:
        queue = sqs.Queue(
            self,
            f"Queue{slug}",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # A message waits at most as long as a state waits for its worker to take it.
            retention_period=Duration.days(1),
        )
        acknowledge(
            queue,
            "SQS3",
            "a worker deletes each message as it takes it; a task whose worker is lost is re-sent by its "
            "state machine (heartbeat timeout) with a fresh token, so a dead-letter queue would only "
            "collect stale tokens",
        )
        role = iam.Role(
            self,
            f"WorkerRole{slug}",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"stratoflow actor workers of {pool.name}: their queue, task tokens, the data plane",
        )
        queue.grant_consume_messages(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AnswerTaskTokens",
                actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                resources=["*"],
            )
        )
        acknowledge(
            role,
            "IAM5",
            "states:SendTaskSuccess/Failure/Heartbeat support no resource-level permissions; a worker "
            "only holds the tokens of the messages of its own queue",
            finding="Resource::*",
        )
        grant_runner_data(role, bucket, table, spec_keys, workflow=self.workflow)
        task_definition = ecs.FargateTaskDefinition(
            self,
            f"Worker{slug}",
            cpu=pool.cpu_units,
            memory_limit_mib=pool.memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,  # Fargate Spot has no Arm capacity
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=role,
            # An environment whose tasks request secrets: an execution role of its own reads them.
            execution_role=(
                secrets_execution_role(self, f"Worker{slug}", "actor workers")
                if pool.secrets
                else compute.execution_role
            ),
        )
        task_definition.add_volume(name=defaults.CONTAINER_SCRATCH_VOLUME)
        container = task_definition.add_container(
            protocol.CONTAINER_NAME,
            container_name=protocol.CONTAINER_NAME,
            image=image,
            command=list(WORKER_COMMAND),
            environment={
                **environment,
                **defaults.CONTAINER_SCRATCH_ENVIRONMENT,
                protocol.ENV_ACTOR_NAME: pool.name,
                protocol.ENV_ACTOR_QUEUE: queue.queue_url,
                protocol.ENV_ACTOR_TTL_SECONDS: str(pool.ttl_seconds),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix=f"actor-{slug}", log_group=compute.log_group),
            essential=True,
            user=defaults.CONTAINER_USER,
            readonly_root_filesystem=True,
            stop_timeout=_SPOT_WARNING,
            secrets=container_secrets(task_definition, pool.secrets) or None,
        )
        container.add_mount_points(
            ecs.MountPoint(
                container_path=defaults.CONTAINER_SCRATCH_DIR,
                source_volume=defaults.CONTAINER_SCRATCH_VOLUME,
                read_only=False,
            )
        )
        acknowledge(
            task_definition,
            "ECS2",
            "the environment holds only resource names (bucket, table, queue URL, idle time), no secrets",
        )
        return queue, role, task_definition

    def _grant_ensure(self, runner_role: iam.IRole, compute: FargateCompute) -> None:
        cluster = {"ArnEquals": {"ecs:cluster": compute.cluster.cluster_arn}}
        runner_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="StartActorWorkers",
                actions=["ecs:RunTask"],
                resources=[td.task_definition_arn for _, td in sorted(self.task_definitions.items())],
                conditions=cluster,
            )
        )
        runner_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CountActorWorkers", actions=["ecs:ListTasks"], resources=["*"], conditions=cluster
            )
        )
        roles = [role.role_arn for _, role in sorted(self.worker_roles.items())]
        runner_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassActorWorkerRoles",
                actions=["iam:PassRole"],
                resources=[*roles, compute.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        acknowledge(
            runner_role,
            "IAM5",
            "ecs:ListTasks has no resource-level permissions; it is limited to the stack's cluster by the "
            "ecs:cluster condition (the ensure step counts an environment's running workers)",
            finding="Resource::*",
        )

    def substitutions(self) -> dict[str, str]:
        """Values for the actor placeholders of compiled ASL (each environment's queue URL)."""
        return {protocol.actor_queue(name): queue.queue_url for name, queue in self.queues.items()}

    def send_statements(self, placeholders: Sequence[str]) -> list[iam.PolicyStatement]:
        """What a workflow whose definition names ``placeholders`` needs: send to those queues."""
        arns = [
            queue.queue_arn
            for name, queue in sorted(self.queues.items())
            if protocol.actor_queue(name) in placeholders
        ]
        if not arns:
            return []
        return [iam.PolicyStatement(sid="SendActorTasks", actions=["sqs:SendMessage"], resources=arns)]
