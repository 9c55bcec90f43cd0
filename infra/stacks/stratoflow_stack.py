"""``StratoflowStack``: the shared data plane plus one state machine per workflow named in context."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aspects, CfnOutput, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._bundle import build_container_context, runtime_sources
from infra.constructs.batch_compute import BatchCompute, BatchShape
from infra.constructs.cache_table import CacheTable
from infra.constructs.encryption import EncryptWithStackKey, StackKey
from infra.constructs.fargate_compute import FargateCompute, FargateShape
from infra.constructs.payload_bucket import PayloadBucket
from infra.constructs.task_images import TaskImages
from infra.constructs.task_secrets import grant_secret_reads
from infra.constructs.trigger_starter import TriggeredWorkflow, TriggerStarter
from infra.constructs.workflow_state_machine import WorkflowStateMachine, pascal_case
from infra.stacks.dynamic_compute import dynamic_image_tasks, dynamic_routes, dynamic_tasks
from infra.stacks.launch_plans import LaunchPlans, add_launch_plans
from infra.stacks.settings import StackSettings, WorkflowSource
from infra.stacks.shapes import (
    Placed,
    actor_pool_specs,
    add_dynamic_shapes,
    batch_pools,
    batch_shapes,
    fargate_shapes,
    lambda_secrets,
    node_routes,
)
from infra.stacks.task_images import node_tasks
from infra.stacks.workflow_runtime import SharedPlane, WorkflowNeeds, WorkflowRuntime, lambda_sizes
from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["StratoflowStack", "actor_pool_specs", "node_routes"]  # the last two: re-exported


class StratoflowStack(Stack):
    """Bucket, cache table, the shared network and Batch queues (when a node needs them), and per
    workflow its own runtime (``WorkflowRuntime``: runner Lambda, roles, task and job definitions,
    actors, ``@dynamic`` interpreter), its state machine and its S3 triggers.

    Every workflow compiles here (``stratoflow.backends.asl``). Least privilege per workflow:
    each workflow's runner and roles may write only its own ``runs/<workflow>/`` objects, the
    shared content-addressed blobs and its own cache items, and its state machine may invoke only
    its own functions; each runner is sized for its workflow's largest Lambda-routed task; task
    definitions exist only for the Fargate shapes the workflow uses. Outputs:
    ``StateMachine<Workflow>`` per workflow, ``StateMachines`` (JSON name -> ARN), ``BucketName``
    and ``CacheTableName``.

    Attributes:
        payload: The data bucket construct.
        cache: The cache table construct.
        runtimes: Each workflow's own runtime, by workflow name.
        compute: The shared network (VPC, cluster, execution role), or ``None`` when every node fits Lambda.
        batch: The shared Batch environments and queues, or ``None`` when no node is routed to Batch.
        workflows: State machine construct per workflow name.
        triggers: The S3 trigger starter and rules, or ``None`` when no workflow has a trigger.
        launch_plans: The launch plans' schedules and notifications (cdk.json entries naming plans).
        images: The task images (one Docker image asset per ImageSpec and platform in use).
        key: The customer-managed KMS key (context ``stratoflow:kms``), or ``None``.

    Example:
        >>> app = cdk.App()  # doctest: +SKIP
        >>> StratoflowStack(app, "Stratoflow", settings=StackSettings.from_context(app.node))  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: StackSettings) -> None:
        super().__init__(
            scope, construct_id, description="stratoflow: typed Python workflows on Step Functions"
        )
        compiled = [asl.compile_workflow(spec) for spec in settings.specs]
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
        self.images = TaskImages(
            self, "Images", workflow_modules=module_files, cache_dir=settings.bundle_cache_dir
        )
        needs = {w.spec.name: self._needs(w) for w in settings.workflows}
        self.compute: FargateCompute | None = None
        self.batch: BatchCompute | None = None
        image = None
        if any(n.containers for n in needs.values()):
            all_shapes: list[FargateShape | BatchShape] = []
            for need in needs.values():
                all_shapes.extend(need.shapes)
                all_shapes.extend(need.batch_shapes)
            # Actor workers of an environment without an image of its own run the shared image.
            shared_workers = any(p.image is None for n in needs.values() for p in n.pools)
            image = self._shared_image(settings, module_files, all_shapes, shared_workers)
            # The network every workflow's tasks share (its task roles are each workflow's own).
            self.compute = FargateCompute(self, "Compute", shapes=[], image=None, environment=environment)
            routes = [*node_routes(settings.specs), *dynamic_routes(settings.workflows)]
            if any(n.batch_shapes for n in needs.values()):
                self.batch = BatchCompute(
                    self,
                    "Batch",
                    pools=batch_pools(routes),
                    shapes=[],
                    vpc=self.compute.vpc,
                    security_group=self.compute.security_group,
                    image=None,
                    environment=environment,
                    job_role=None,
                    execution_role=self.compute.execution_role,
                )
        shared = SharedPlane(
            settings=settings,
            bucket=bucket,
            table=table,
            environment=environment,
            module_files=module_files,
            images=self.images,
            image=image,
            network=self.compute,
            queues=self.batch,
        )
        self.runtimes: dict[str, WorkflowRuntime] = {}
        self.workflows: dict[str, WorkflowStateMachine] = {}
        for workflow, spec in zip(compiled, settings.specs, strict=True):
            self._add_workflow(workflow, spec, needs[spec.name], shared)
        self._add_starters(settings, compiled, key)
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

    def _needs(self, source: WorkflowSource) -> WorkflowNeeds:
        """The compute one workflow uses: its nodes' shapes, and its @dynamic graphs' generic ones."""
        placed = node_tasks([source.spec])
        shapes = fargate_shapes(placed, self.images)
        jobs = batch_shapes(placed, self.images)
        image_tasks = dynamic_image_tasks([source])
        add_dynamic_shapes(
            dynamic_routes([source]), shapes, jobs, image_tasks=image_tasks, images=self.images
        )
        memory, disk = lambda_sizes(placed)
        return WorkflowNeeds(
            shapes=shapes,
            batch_shapes=jobs,
            pools=actor_pool_specs([source.spec]),
            lambda_memory_mib=memory,
            lambda_ephemeral_mib=disk,
            dynamic_images=image_tasks,
            dynamic_tasks=dynamic_tasks([source]),
        )

    def _add_workflow(
        self, workflow: asl.CompiledWorkflow, spec: ir.WorkflowSpec, needs: WorkflowNeeds, shared: SharedPlane
    ) -> None:
        """The workflow's own runtime (runner, roles, task and job definitions, actors, interpreter)
        and its state machine, which may invoke and run only those."""
        pascal = pascal_case(workflow.name)
        runtime = WorkflowRuntime(
            self, f"Runtime{pascal}", compiled=workflow, spec=spec, needs=needs, shared=shared
        )
        self.runtimes[workflow.name] = runtime
        self._grant_lambda_secrets(runtime, node_tasks([spec]), dynamic=needs.dynamic_tasks)
        construct = WorkflowStateMachine(
            self,
            f"Workflow{pascal}",
            compiled=workflow,
            runner=runtime.runner.function,
            bucket=shared.bucket,
            compute=runtime.tasks,
            batch=runtime.jobs,
            interpreter=runtime.interpreter,
            image_functions={name: f.function for name, f in runtime.image_functions.items()},
            actors=runtime.actors,
        )
        self.workflows[workflow.name] = construct
        CfnOutput(
            self,
            f"StateMachine{pascal}",
            value=construct.state_machine.state_machine_arn,
            description=f"State machine of workflow {workflow.name}",
        )

    def _add_starters(
        self, settings: StackSettings, compiled: Sequence[asl.CompiledWorkflow], key: kms.IKey | None
    ) -> None:
        """The S3 trigger starter (when a workflow has a trigger) and the launch plans' schedules."""
        bucket = self.payload.bucket
        # Every runner's bundle is the same asset: the starters run from it too.
        code = next(iter(self.runtimes.values())).runner.code
        self.triggers: TriggerStarter | None = None
        if any(spec.triggers for spec in settings.specs):
            self.triggers = TriggerStarter(
                self,
                "Triggers",
                code=code,
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
            code=code,
            bucket=bucket,
            architecture=settings.lambda_architecture,
            encryption_key=key,
            specs=settings.specs,
        )

    def _grant_lambda_secrets(
        self, runtime: WorkflowRuntime, placed: Sequence[Placed], *, dynamic: Sequence[Placed] = ()
    ) -> None:
        """Each Lambda function of a workflow may read the secrets of the tasks it runs, its nodes'
        and those its ``@dynamic`` graphs may run there (``dynamic``), and no others (another
        workflow's functions get none; a container task's secrets are its task or job definition's)."""
        functions = [
            (None, runtime.runner.role),
            *((protocol.image_function_tag(name), f.role) for name, f in runtime.image_functions.items()),
        ]
        for image, role in functions:
            secrets = [
                *lambda_secrets(placed, image=image),
                # Inside a dynamic graph an actor task runs as a plain task.
                *lambda_secrets(dynamic, image=image, actors_run_plain=True),
            ]
            grant_secret_reads(role, secrets)

    def _stack_key(self, settings: StackSettings) -> kms.IKey | None:
        """The opt-in customer-managed key (``stratoflow:kms``), applied to every resource it fits."""
        self.key: StackKey | None = StackKey(self, "Encryption") if settings.kms else None
        if self.key is None:
            return None
        Aspects.of(self).add(EncryptWithStackKey(self.key.key))
        return self.key.key

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
