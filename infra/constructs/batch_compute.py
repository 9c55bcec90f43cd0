"""``BatchCompute``: AWS Batch compute environments, job queues and job definitions for nodes routed to Batch."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import ArnFormat, RemovalPolicy, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from infra.constructs.task_secrets import job_secrets, secrets_execution_role
from stratoflow import ir, routing
from stratoflow.ir import protocol

__all__ = ["BATCH_EVENTS_RULE", "BatchCompute", "BatchPool", "BatchShape", "batch_jobs_arn"]

BATCH_EVENTS_RULE = "StepFunctionsGetEventsForBatchJobsRule"
"""The managed EventBridge rule through which Step Functions learns that a Batch job ended (``.sync``)."""

_NAME = re.compile(r"^[a-z0-9_]+$")
_KNOWN_FAMILIES = frozenset(f.name for f in routing.INSTANCE_FAMILIES)


@dataclass(frozen=True)
class BatchShape:
    """One job definition's size, named by its ASL placeholder (``BatchJobDef_vcpu4_mem16384_gpu1``).

    Attributes:
        placeholder: The ``${...}`` name the compiled ASL uses for this job definition.
        vcpus: Whole vCPUs.
        memory_mib: Job memory.
        gpus: NVIDIA GPUs (0: none).
        image: The job's own image (job definitions exist per image and shape); ``None``
            runs the construct's shared ``image``.
        secrets: The secrets its tasks request: the container gets them from Secrets Manager,
            read by an execution role of this job definition's own (``task_secrets``).
    """

    placeholder: str
    vcpus: int
    memory_mib: int
    gpus: int = 0
    image: ecs.ContainerImage | None = None
    secrets: tuple[ir.SecretRequest, ...] = ()


@dataclass(frozen=True)
class BatchPool:
    """One set of instance families with its own compute environments and queues.

    Attributes:
        name: The pool in the ASL's queue placeholders (``gpu`` -> ``BatchQueue_gpu_ondemand``).
        instance_families: EC2 families the environments may launch (``g4dn``, ``g5``, ...).
        spot: Whether a Spot environment and queue exist too (an interruptible node uses the pool).
    """

    name: str
    instance_families: tuple[str, ...]
    spot: bool = False

    @property
    def gpu(self) -> bool:
        """Whether the pool launches GPU instances (and so needs the NVIDIA ECS AMI)."""
        return any(f.max_gpus for f in routing.INSTANCE_FAMILIES if f.name in self.instance_families)


class BatchCompute(Construct):
    """Managed EC2 compute environments that scale to zero, a job queue each, one job definition per shape.

    Per pool: an on-demand environment (allocation ``BEST_FIT_PROGRESSIVE``) and, when an
    interruptible node uses the pool, a Spot one (``SPOT_PRICE_CAPACITY_OPTIMIZED``); both
    with min vCPUs 0, so nothing runs (or costs) between jobs, in the given private subnets
    with the given security group. GPU pools use the ECS GPU-optimised AMI
    (``ECS_AL2_NVIDIA``). Jobs run the same image and command as the Fargate tasks, with one
    job role and one execution role (the stack passes the Fargate task and execution roles:
    the first already holds the data-plane grants, the second the image pull and logs), except
    that a shape whose tasks request secrets has an execution role of its own, the only one
    that may read them (Batch puts them in the container's environment, as ECS does);
    job definitions carry no retry strategy, since the state machine retries.

    Least privilege per workflow: the stack makes one instance with the pools and no shapes (the
    shared environments and queues) and one per workflow with ``queues_of=`` that one: the
    workflow's job definitions, running as its own job role, submitted to the shared queues.

    Attributes:
        compute_environments: Environment per ``<pool>_<ondemand|spot>``.
        job_queues: Queue per placeholder name (``BatchQueue_gpu_ondemand``).
        job_definitions: Job definition per placeholder name (``BatchJobDef_vcpu4_mem16384_gpu1``).
        log_group: Where the jobs' container logs go.

    Example:
        >>> BatchCompute(stack, "Batch", pools=[BatchPool("gpu", ("g4dn", "g5", "g6"))],
        ...     shapes=[BatchShape("BatchJobDef_vcpu4_mem16384_gpu1", 4, 16384, 1)], vpc=vpc,
        ...     security_group=sg, image=image, environment={}, job_role=role)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pools: Sequence[BatchPool],
        shapes: Sequence[BatchShape],
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        image: ecs.ContainerImage | None,
        environment: Mapping[str, str],
        job_role: iam.IRole | None,
        execution_role: iam.IRole,
        max_vcpus: int = defaults.BATCH_MAX_VCPUS,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        queues_of: BatchCompute | None = None,
    ) -> None:
        problems = _problems(pools, shapes, max_vcpus)
        if image is None and any(shape.image is None for shape in shapes):
            problems.append("image is required: some shapes have no image of their own")
        if shapes and job_role is None:
            problems.append("job_role is required: job definitions run as it")
        if queues_of is not None and pools:
            problems.append("pools must be empty when queues_of shares another instance's queues")
        raise_if_problems("BatchCompute", problems)
        super().__init__(scope, construct_id)
        self.compute_environments: dict[str, batch.ManagedEc2EcsComputeEnvironment] = {}
        self.job_queues: dict[str, batch.JobQueue] = {}
        if queues_of is not None:
            # A workflow's own job definitions (its job role) on the shared environments and queues.
            self.log_group: logs.LogGroup = queues_of.log_group
            self.compute_environments.update(queues_of.compute_environments)
            self.job_queues.update(queues_of.job_queues)
        else:
            self.log_group = logs.LogGroup(
                self, "JobLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
            )
        for pool in sorted(pools, key=lambda p: p.name):
            for spot in (False, True) if pool.spot else (False,):
                self._add_pool(pool, spot=spot, vpc=vpc, security_group=security_group, max_vcpus=max_vcpus)
        self.job_definitions: dict[str, batch.EcsJobDefinition] = {}
        for shape in sorted(shapes, key=lambda s: s.placeholder):
            self.job_definitions[shape.placeholder] = batch.EcsJobDefinition(
                self,
                shape.placeholder,
                container=batch.EcsEc2ContainerDefinition(
                    self,
                    f"{shape.placeholder}Container",
                    image=cast("ecs.ContainerImage", shape.image or image),  # checked in _problems
                    cpu=shape.vcpus,
                    memory=Size.mebibytes(shape.memory_mib),
                    gpu=shape.gpus or None,
                    command=list(defaults.CONTAINER_COMMAND),
                    environment={**environment, **defaults.CONTAINER_SCRATCH_ENVIRONMENT},
                    # Non-root on a read-only root filesystem, as on Fargate; the scratch volume
                    # (no host path: a Docker volume that ends with the job) is the writable path.
                    user=defaults.CONTAINER_USER,
                    readonly_root_filesystem=True,
                    volumes=[
                        batch.EcsVolume.host(
                            name=defaults.CONTAINER_SCRATCH_VOLUME,
                            container_path=defaults.CONTAINER_SCRATCH_DIR,
                        )
                    ],
                    job_role=job_role,  # checked above: set whenever there are shapes
                    execution_role=self._execution_role(shape, execution_role),
                    secrets=job_secrets(self, shape.secrets) or None,
                    logging=ecs.LogDrivers.aws_logs(
                        stream_prefix=shape.placeholder, log_group=self.log_group
                    ),
                ),
            )

    def _execution_role(self, shape: BatchShape, shared: iam.IRole) -> iam.IRole:
        """The shared execution role, or, for a shape with secrets, one of its own: the secrets'
        read grant (added by the container definition) then sits on no role another job uses."""
        if not shape.secrets:
            return shared
        return secrets_execution_role(self, shape.placeholder, "Batch jobs")

    def _add_pool(
        self,
        pool: BatchPool,
        *,
        spot: bool,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        max_vcpus: int,
    ) -> None:
        capacity = "spot" if spot else "ondemand"
        key = f"{pool.name}_{capacity}"
        image_type = (
            batch.EcsMachineImageType.ECS_AL2_NVIDIA if pool.gpu else batch.EcsMachineImageType.ECS_AL2
        )
        environment = batch.ManagedEc2EcsComputeEnvironment(
            self,
            f"Env_{key}",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[security_group],
            # Families, not sizes: Batch picks the size that fits each job.
            instance_classes=[
                getattr(ec2.InstanceClass, family.upper()) for family in pool.instance_families
            ],
            use_optimal_instance_classes=False,
            images=[batch.EcsMachineImage(image_type=image_type)],
            minv_cpus=0,
            maxv_cpus=max_vcpus,
            spot=spot,
            allocation_strategy=(
                batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
                if spot
                else batch.AllocationStrategy.BEST_FIT_PROGRESSIVE
            ),
        )
        if environment.instance_role is not None:
            acknowledge(
                environment.instance_role,
                "IAM4",
                "AmazonEC2ContainerServiceforEC2Role is what the ECS agent on a Batch instance needs "
                "(register with the cluster, pull the image, write container logs); the jobs' own "
                "rights are on the job role",
                finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
            )
        self.compute_environments[key] = environment
        self.job_queues[protocol.batch_queue(pool.name, spot=spot)] = batch.JobQueue(
            self,
            f"Queue_{key}",
            compute_environments=[batch.OrderedComputeEnvironment(compute_environment=environment, order=1)],
            priority=1,
        )

    def state_machine_statements(self, placeholders: Sequence[str]) -> list[iam.PolicyStatement]:
        """What a state machine whose definition names ``placeholders`` needs for ``submitJob.sync``.

        SubmitJob on exactly its queues and job definitions; TerminateJob on this account's
        jobs (ids are assigned at submission; ``.sync`` terminates a job when the execution
        stops); DescribeJobs, which has no resource-level permissions; and the managed
        EventBridge rule through which ``.sync`` learns that a job ended.
        """
        stack = Stack.of(self)
        queues = [self.job_queues[n].job_queue_arn for n in placeholders if n in self.job_queues]
        definitions = [
            self.job_definitions[n].job_definition_arn for n in placeholders if n in self.job_definitions
        ]
        rule = stack.format_arn(service="events", resource="rule", resource_name=BATCH_EVENTS_RULE)
        return [
            iam.PolicyStatement(
                sid="SubmitBatchJobs", actions=["batch:SubmitJob"], resources=[*queues, *definitions]
            ),
            iam.PolicyStatement(
                sid="TerminateBatchJobs", actions=["batch:TerminateJob"], resources=[batch_jobs_arn(stack)]
            ),
            iam.PolicyStatement(sid="DescribeBatchJobs", actions=["batch:DescribeJobs"], resources=["*"]),
            iam.PolicyStatement(
                sid="SyncBatchEventsRule",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[rule],
            ),
        ]

    def substitutions(self) -> dict[str, str]:
        """Values for the Batch placeholders of compiled ASL (job queues and job definitions)."""
        values = {name: queue.job_queue_arn for name, queue in self.job_queues.items()}
        values.update({name: jd.job_definition_arn for name, jd in self.job_definitions.items()})
        return values


def batch_jobs_arn(stack: Stack) -> str:
    """Every Batch job of the stack's account and region (job ids exist only once submitted)."""
    return stack.format_arn(
        service="batch", resource="job", resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME
    )


def _problems(pools: Sequence[BatchPool], shapes: Sequence[BatchShape], max_vcpus: int) -> list[str]:
    problems = []
    for pool in pools:
        if not _NAME.match(pool.name):
            problems.append(f"pool name {pool.name!r} must be lower-case letters, digits and '_'")
        unknown = sorted(set(pool.instance_families) - _KNOWN_FAMILIES)
        if unknown or not pool.instance_families:
            problems.append(f"pool {pool.name!r}: unknown or no instance families {unknown}")
    for shape in shapes:
        if not protocol.is_batch_job_definition(shape.placeholder):
            prefix = protocol.BATCH_JOB_DEFINITION_PREFIX
            problems.append(f"shape placeholder {shape.placeholder!r} must start with {prefix!r}")
        if shape.vcpus < 1 or shape.memory_mib < 1 or shape.gpus < 0:
            problems.append(f"{shape.placeholder}: vcpus and memory_mib must be positive, gpus >= 0")
        if shape.vcpus > max_vcpus:
            problems.append(f"{shape.placeholder}: {shape.vcpus} vCPUs exceed max_vcpus={max_vcpus}")
    names = [p.name for p in pools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate pools: {', '.join(duplicates)}")
    if max_vcpus < 1:
        problems.append(f"max_vcpus must be at least 1, got {max_vcpus}")
    return problems
