"""``StratoflowStack``: the shared data plane plus one state machine per workflow named in context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from aws_cdk import Aspects, CfnOutput, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._bundle import build_container_context, runtime_sources
from infra.constructs._grants import grant_dynamic_specs, grant_runner_data
from infra.constructs.actor_pool import ActorPools, ActorPoolSpec
from infra.constructs.batch_compute import BatchCompute, BatchPool, BatchShape
from infra.constructs.cache_table import CacheTable
from infra.constructs.dynamic_interpreter import INTERPRETER_PLACEHOLDER, DynamicInterpreter
from infra.constructs.encryption import EncryptWithStackKey, StackKey
from infra.constructs.fargate_compute import FargateCompute, FargateShape
from infra.constructs.image_function import ImageFunction
from infra.constructs.payload_bucket import PayloadBucket
from infra.constructs.task_function import TaskFunction
from infra.constructs.task_images import TaskImages
from infra.constructs.trigger_starter import TriggeredWorkflow, TriggerStarter
from infra.constructs.workflow_state_machine import WorkflowStateMachine, pascal_case
from infra.stacks.dynamic_compute import (
    DYNAMIC_JOB_MEMORY_MIB,
    DYNAMIC_TASK_CPU_UNITS,
    DYNAMIC_TASK_MEMORY_MIB,
    dynamic_routes,
)
from infra.stacks.launch_plans import LaunchPlans, add_launch_plans
from infra.stacks.settings import StackSettings
from infra.stacks.task_images import image_functions, node_tasks
from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["StratoflowStack", "actor_pool_specs", "node_routes"]


def node_routes(specs: Sequence[ir.WorkflowSpec]) -> list[routing.Route]:
    """The compute route of every node of every workflow (the compiler's own routing rule)."""
    return [route for route, _ in node_tasks(specs)]


Placed = tuple[routing.Route, ir.TaskSpec]


_BATCH_TARGETS = ("batch", "batch_spot")


def actor_pool_specs(specs: Sequence[ir.WorkflowSpec]) -> list[ActorPoolSpec]:
    """One pool per actor environment the workflows use, its workers sized as Fargate sizes its requests.

    An environment's tasks share its requests and interruptibility (``@env.task`` takes them
    from the environment), so any of its tasks describes the workers.
    """
    pools: dict[str, ActorPoolSpec] = {}
    for spec in specs:
        for task in spec.tasks.values():
            if task.actor is None or task.actor.name in pools:
                continue
            route = routing.route(task.requests, interruptible=task.interruptible, compute="fargate")
            pools[task.actor.name] = ActorPoolSpec(
                name=task.actor.name,
                ttl_seconds=task.actor.ttl_seconds,
                cpu_units=int((route.cpu or 0.25) * 1024),
                memory_mib=route.memory_mib,
                spot=task.interruptible,
                image=task.image,
            )
    return [pools[name] for name in sorted(pools)]


def _add_dynamic_shapes(
    dynamic: Sequence[routing.Route], shapes: list[FargateShape], batch_shapes: list[BatchShape]
) -> None:
    """The generic task and job definitions ``@dynamic`` graph nodes run on, when any needs one."""
    if any(r.target in ("fargate", "fargate_spot") for r in dynamic):
        shapes.append(
            FargateShape(
                placeholder=protocol.Placeholder.DYNAMIC_TASK_DEFINITION,
                cpu_units=DYNAMIC_TASK_CPU_UNITS,
                memory_mib=DYNAMIC_TASK_MEMORY_MIB,
            )
        )
    if any(r.target in _BATCH_TARGETS for r in dynamic):
        batch_shapes.append(
            BatchShape(
                protocol.Placeholder.DYNAMIC_JOB_DEFINITION, vcpus=1, memory_mib=DYNAMIC_JOB_MEMORY_MIB
            )
        )


def _fargate_shapes(placed: Sequence[Placed], images: TaskImages) -> list[FargateShape]:
    """One task definition per (image, shape) in use; no image: the shared image."""
    shapes: dict[str, FargateShape] = {}
    for route, task in placed:
        if route.target not in ("fargate", "fargate_spot"):
            continue
        placeholder = asl.task_definition_name(route, task.image)
        disk_gib = -(-(route.ephemeral_storage_mib or 0) // 1024)
        shapes[placeholder] = FargateShape(
            placeholder=placeholder,
            cpu_units=int((route.cpu or 0.25) * 1024),
            memory_mib=route.memory_mib,
            ephemeral_storage_gib=disk_gib if disk_gib > defaults.DEFAULT_FARGATE_EPHEMERAL_GIB else None,
            image=images.container_image(task.image) if task.image else None,
        )
    return list(shapes.values())


def _batch_shapes(placed: Sequence[Placed], images: TaskImages) -> list[BatchShape]:
    """One job definition per (image, shape) in use; no image: the shared image."""
    shapes: dict[str, BatchShape] = {}
    for route, task in placed:
        if route.target in _BATCH_TARGETS:
            name = asl.batch_job_definition_name(route, task.image)
            image = images.container_image(task.image) if task.image else None
            shapes[name] = BatchShape(
                name, vcpus=route.vcpus, memory_mib=route.memory_mib, gpus=route.gpus, image=image
            )
    return list(shapes.values())


def _batch_pools(routes: Sequence[routing.Route]) -> list[BatchPool]:
    """One pool per route pool: the union of its routes' families; Spot when an interruptible node uses it."""
    families: dict[str, set[str]] = {}
    spot: dict[str, bool] = {}
    for route in routes:
        if route.target in _BATCH_TARGETS:
            families.setdefault(route.pool, set()).update(route.instance_families)
            spot[route.pool] = spot.get(route.pool, False) or route.target == "batch_spot"
    order = {f.name: i for i, f in enumerate(routing.INSTANCE_FAMILIES)}
    return [
        BatchPool(name, tuple(sorted(names, key=order.__getitem__)), spot=spot[name])
        for name, names in sorted(families.items())
    ]


class StratoflowStack(Stack):
    """Bucket, cache table, runner Lambda, Fargate compute (when a node needs it), the ``@dynamic``
    interpreter (when a node is dynamic), the workflows and their S3 triggers (when a workflow
    declares one).

    Every workflow compiles here (``stratoflow.backends.asl``); one runner function
    serves all of them, sized for the largest Lambda-routed task; task definitions exist
    only for the Fargate shapes some node uses. Outputs: ``StateMachine<Workflow>`` per
    workflow, ``StateMachines`` (JSON name -> ARN), ``BucketName`` and ``CacheTableName``.

    Attributes:
        payload: The data bucket construct.
        cache: The cache table construct.
        runner: The task-runner function construct.
        compute: The Fargate construct (VPC, cluster), or ``None`` when every node fits Lambda.
        batch: The AWS Batch construct, or ``None`` when no node is routed to Batch.
        actors: The actor queues and worker task definitions, or ``None`` when no task is an actor task.
        interpreter: The ``@dynamic`` interpreter, or ``None`` when no workflow has a dynamic node.
        workflows: State machine construct per workflow name.
        triggers: The S3 trigger starter and rules, or ``None`` when no workflow has a trigger.
        launch_plans: The launch plans' schedules and notifications (cdk.json entries naming plans).
        images: The task images (one Docker image asset per ImageSpec and platform in use).
        image_functions: The container-image runner function per image-function placeholder.
        key: The customer-managed KMS key (context ``stratoflow:kms``), or ``None``.

    Example:
        >>> app = cdk.App()  # doctest: +SKIP
        >>> StratoflowStack(app, "Stratoflow", settings=StackSettings.from_context(app.node))  # doctest: +SKIP
    """

    actors: ActorPools | None = None

    def __init__(self, scope: Construct, construct_id: str, *, settings: StackSettings) -> None:
        super().__init__(
            scope, construct_id, description="stratoflow: typed Python workflows on Step Functions"
        )
        compiled = [asl.compile_workflow(spec) for spec in settings.specs]
        spec_keys = [workflow.spec_key for workflow in compiled]
        placed, routes = node_tasks(settings.specs), node_routes(settings.specs)
        # The shared runner runs the Lambda tasks without an image of their own.
        lambda_routes = [r for r, task in placed if r.target == "lambda" and task.image is None]
        module_files = sorted({w.module_file for w in settings.workflows})

        triggered = {spec.name for spec in settings.specs if spec.triggers}
        key = self._stack_key(settings)
        self.payload = PayloadBucket(
            self, "Payload", event_bridge_enabled=bool(triggered), encryption_key=key
        )
        self.cache = CacheTable(self, "Cache", encryption_key=key)
        bucket, table = self.payload.bucket, self.cache.table
        environment = {
            protocol.ENV_BUCKET: bucket.bucket_name,
            protocol.ENV_CACHE_TABLE: table.table_name,
            protocol.ENV_CACHE_TTL_DAYS: f"{settings.cache_ttl_days:g}",
        }
        self.runner = TaskFunction(
            self,
            "Runner",
            workflow_modules=module_files,
            environment=environment,
            architecture=settings.lambda_architecture,
            memory_mib=max([defaults.RUNNER_MEMORY_MIB, *(r.memory_mib for r in lambda_routes)]),
            ephemeral_storage_mib=max([512, *(r.ephemeral_storage_mib or 0 for r in lambda_routes)]),
            dependencies=settings.runner_dependencies,
            cache_dir=settings.bundle_cache_dir,
            reserved_concurrency=settings.runner_reserved_concurrency,
        )
        grant_runner_data(self.runner.role, bucket, table, spec_keys)

        self.compute: FargateCompute | None = None
        self.batch: BatchCompute | None = None
        dynamic = dynamic_routes(settings.workflows)
        self.images, self.image_functions = self._task_images(
            settings,
            compiled,
            module_files,
            environment,
            lambda role: grant_runner_data(role, bucket, table, spec_keys),
        )
        shapes = _fargate_shapes(placed, self.images)
        batch_shapes = _batch_shapes(placed, self.images)
        _add_dynamic_shapes(dynamic, shapes, batch_shapes)
        pools = actor_pool_specs(settings.specs)
        if shapes or batch_shapes or pools:
            # Actor workers of an environment without an image of its own run the shared image.
            shared_workers = any(pool.image is None for pool in pools)
            image = self._shared_image(settings, module_files, [*shapes, *batch_shapes], shared_workers)
            # Batch jobs share the Fargate VPC, security group and task role.
            self.compute = FargateCompute(
                self, "Compute", shapes=shapes, image=image, environment=environment
            )
            grant_runner_data(self.compute.task_role, bucket, table, spec_keys)
            if batch_shapes:
                self.batch = BatchCompute(
                    self,
                    "Batch",
                    pools=_batch_pools([*routes, *dynamic]),
                    shapes=batch_shapes,
                    vpc=self.compute.vpc,
                    security_group=self.compute.security_group,
                    image=image,
                    environment=environment,
                    job_role=self.compute.task_role,
                    execution_role=self.compute.execution_role,
                )
            self.actors = self._actor_pools(pools, image=image, environment=environment, spec_keys=spec_keys)

        self.interpreter: DynamicInterpreter | None = None
        if any(INTERPRETER_PLACEHOLDER in workflow.placeholders for workflow in compiled):
            self.interpreter = DynamicInterpreter(
                self,
                "DynamicInterpreter",
                runner=self.runner.function,
                bucket=bucket,
                compute=self.compute,
                batch=self.batch,
            )
            grant_dynamic_specs(self.runner.role, bucket)
            queues = self.batch.job_queues if self.batch is not None else {}
            setting = protocol.DynamicCompute(
                fargate=protocol.Placeholder.DYNAMIC_TASK_DEFINITION in {s.placeholder for s in shapes},
                batch_queues={name: queue.job_queue_arn for name, queue in sorted(queues.items())},
            )
            # Queue ARNs are tokens: CloudFormation joins them into the JSON at deploy.
            self.runner.function.add_environment(
                protocol.ENV_DYNAMIC_COMPUTE, self.to_json_string(setting.model_dump(mode="json"))
            )

        self.workflows: dict[str, WorkflowStateMachine] = {}
        for workflow in compiled:
            construct = WorkflowStateMachine(
                self,
                f"Workflow{pascal_case(workflow.name)}",
                compiled=workflow,
                runner=self.runner.function,
                bucket=bucket,
                compute=self.compute,
                batch=self.batch,
                interpreter=self.interpreter,
                image_functions={name: f.function for name, f in self.image_functions.items()},
                actors=self.actors,
            )
            self.workflows[workflow.name] = construct
            CfnOutput(
                self,
                f"StateMachine{pascal_case(workflow.name)}",
                value=construct.state_machine.state_machine_arn,
                description=f"State machine of workflow {workflow.name}",
            )
        self.triggers: TriggerStarter | None = None
        if triggered:
            self.triggers = TriggerStarter(
                self,
                "Triggers",
                code=self.runner.code,
                bucket=bucket,
                architecture=settings.lambda_architecture,
                encryption_key=key,
                workflows=[
                    TriggeredWorkflow(
                        name=workflow.name,
                        state_machine=self.workflows[workflow.name].state_machine,
                        spec_key=workflow.spec_key,
                        triggers=spec.triggers,
                    )
                    for workflow, spec in zip(compiled, settings.specs, strict=True)
                    if spec.triggers
                ],
            )
        self.launch_plans: LaunchPlans = add_launch_plans(
            self,
            plans=settings.launch_plans,
            workflows=self.workflows,
            spec_keys={workflow.name: workflow.spec_key for workflow in compiled},
            code=self.runner.code,
            bucket=bucket,
            architecture=settings.lambda_architecture,
            encryption_key=key,
        )
        CfnOutput(
            self,
            "StateMachines",
            value=self.to_json_string(
                {name: w.state_machine.state_machine_arn for name, w in sorted(self.workflows.items())}
            ),
            description="Workflow name -> state machine ARN (JSON), for Client.from_stack",
        )
        CfnOutput(self, "BucketName", value=bucket.bucket_name, description="stratoflow data bucket")
        CfnOutput(self, "CacheTableName", value=table.table_name, description="stratoflow cache table")

    def _stack_key(self, settings: StackSettings) -> kms.IKey | None:
        """The opt-in customer-managed key (``stratoflow:kms``), applied to every resource it fits."""
        self.key: StackKey | None = StackKey(self, "Encryption") if settings.kms else None
        if self.key is None:
            return None
        Aspects.of(self).add(EncryptWithStackKey(self.key.key))
        return self.key.key

    def _task_images(
        self,
        settings: StackSettings,
        compiled: Sequence[asl.CompiledWorkflow],
        module_files: Sequence[Path],
        environment: dict[str, str],
        grant: Callable[[iam.IRole], None],
    ) -> tuple[TaskImages, dict[str, ImageFunction]]:
        """The task images (assets made on use) and one container-image runner per image Lambda tasks use."""
        images = TaskImages(
            self, "Images", workflow_modules=module_files, cache_dir=settings.bundle_cache_dir
        )
        functions = image_functions(
            self,
            compiled=compiled,
            specs=settings.specs,
            images=images,
            environment=environment,
            architecture=settings.lambda_architecture,
            grant=grant,
        )
        return images, functions

    def _actor_pools(
        self,
        pools: Sequence[ActorPoolSpec],
        *,
        image: ecs.ContainerImage | None,
        environment: dict[str, str],
        spec_keys: list[str],
    ) -> ActorPools | None:
        """The actor environments' queues and workers, or ``None`` when no task is an actor task.

        An environment with a ``container_image`` runs its workers on that image (the x86_64
        asset of its ImageSpec, or its prebuilt URI); the others on the shared ``image``.
        """
        if not pools:
            return None
        # The compute is created first (its cluster and VPC), and the shared image with it.
        assert self.compute is not None  # noqa: S101
        actors = ActorPools(
            self,
            "Actors",
            pools=pools,
            compute=self.compute,
            image=image,
            images={pool.name: self.images.container_image(pool.image) for pool in pools if pool.image},
            environment=environment,
            runner_role=self.runner.role,
            bucket=self.payload.bucket,
            table=self.cache.table,
            spec_keys=spec_keys,
        )
        # ARNs and subnet ids are tokens: CloudFormation joins them into the JSON at deploy.
        self.runner.function.add_environment(
            protocol.ENV_ACTORS, self.to_json_string(actors.setting.model_dump(mode="json"))
        )
        return actors

    def _shared_image(
        self,
        settings: StackSettings,
        module_files: Sequence[object],
        shapes: Sequence[FargateShape | BatchShape],
        shared_workers: bool,
    ) -> ecs.ContainerImage | None:
        """The shared image, of shapes without an image of their own and of the workers of actor
        environments without one (``None`` when nothing needs it): the image named in context, else
        one built by ``cdk deploy`` from a generated build context."""
        if not shared_workers and all(shape.image is not None for shape in shapes):
            return None
        if settings.container_image:
            return ecs.ContainerImage.from_registry(settings.container_image)
        context = build_container_context(
            sources=runtime_sources([w.module_file for w in settings.workflows]),
            requirements=defaults.CONTAINER_REQUIREMENTS,
            base_image=defaults.CONTAINER_BASE_IMAGE,
            command=defaults.CONTAINER_COMMAND,
            cache_dir=settings.bundle_cache_dir,
        )
        return ecs.ContainerImage.from_asset(
            str(context.path),
            platform=ecr_assets.Platform.LINUX_AMD64,
            asset_name="stratoflow-task",
        )
