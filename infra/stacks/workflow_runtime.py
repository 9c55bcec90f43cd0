"""``WorkflowRuntime``: one workflow's own compute and roles, for least privilege per workflow.

Every role here may write only its workflow's objects (``runs/<workflow>/``, and
``dynamic-specs/<workflow>/`` with ``@dynamic`` nodes), the shared content-addressed blobs,
and cache items whose key leads with ``<workflow>/`` (``_grants.grant_runner_data``). So the
workflow has its own runner Lambda, its own container-image functions, its own Fargate task
role and task definitions and Batch job definitions (in the stack's shared VPC, cluster and job
queues), its own actor queues and workers, and its own ``@dynamic`` interpreter invoking only
its runner. Lambda functions, task and job definitions, queues and state machines cost nothing
idle, so the split costs nothing but template size; the network and the compute environments
stay shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._grants import grant_runner_data
from infra.constructs.actor_pool import ActorPools, ActorPoolSpec
from infra.constructs.batch_compute import BatchCompute, BatchShape
from infra.constructs.dynamic_interpreter import INTERPRETER_PLACEHOLDER, DynamicInterpreter
from infra.constructs.fargate_compute import FargateCompute, FargateShape
from infra.constructs.image_function import ImageFunction
from infra.constructs.task_function import TaskFunction
from infra.constructs.task_images import TaskImages
from infra.stacks.settings import StackSettings
from infra.stacks.task_images import image_functions
from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.ir import protocol

__all__ = ["SharedPlane", "WorkflowNeeds", "WorkflowRuntime", "lambda_sizes"]


@dataclass(frozen=True)
class WorkflowNeeds:
    """The compute one workflow's nodes (and its ``@dynamic`` graphs) run on."""

    shapes: Sequence[FargateShape]
    batch_shapes: Sequence[BatchShape]
    pools: Sequence[ActorPoolSpec]
    lambda_memory_mib: int
    lambda_ephemeral_mib: int
    dynamic_images: Sequence[tuple[routing.Route, ir.TaskSpec]] = ()
    """The Lambda and Fargate tasks with an image its ``@dynamic`` graphs may run (``dynamic_image_tasks``)."""
    dynamic_tasks: Sequence[tuple[routing.Route, ir.TaskSpec]] = ()
    """Every task its ``@dynamic`` graphs may run (``dynamic_tasks``): their Lambda tasks' secrets."""

    @property
    def containers(self) -> bool:
        return bool(self.shapes or self.batch_shapes or self.pools)


@dataclass(frozen=True)
class SharedPlane:
    """What every workflow's runtime shares: the data plane, the code, the network and queues."""

    settings: StackSettings
    bucket: s3.IBucket
    table: dynamodb.ITable
    environment: dict[str, str]
    module_files: Sequence[Path]
    images: TaskImages
    image: ecs.ContainerImage | None  # the shared container image (None: nothing needs it)
    network: FargateCompute | None  # the shared VPC and cluster (no task role of its own)
    queues: BatchCompute | None  # the shared Batch environments and queues (no job definitions)


class WorkflowRuntime(Construct):
    """One workflow's runner, image functions, task/job definitions, actors and interpreter.

    Attributes:
        workflow: The workflow's name.
        runner: Its runner Lambda (every Lambda node of this workflow without an image of its own).
        image_functions: Its container-image runner function per image-function placeholder.
        tasks: Its task role and Fargate task definitions (``None``: no container node).
        jobs: Its Batch job definitions on the shared queues (``None``: no Batch node).
        actors: Its actor queues and workers (``None``: no actor task).
        interpreter: Its ``@dynamic`` interpreter (``None``: no dynamic node).
        roles: Every role that runs its code, each granted only its workflow's data.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        compiled: asl.CompiledWorkflow,
        spec: ir.WorkflowSpec,
        needs: WorkflowNeeds,
        shared: SharedPlane,
    ) -> None:
        super().__init__(scope, construct_id)
        self.workflow = compiled.name
        settings = shared.settings
        dynamic = INTERPRETER_PLACEHOLDER in compiled.placeholders
        self.roles: list[iam.IRole] = []

        def grant(role: iam.IRole) -> None:
            grant_runner_data(
                role,
                shared.bucket,
                shared.table,
                [compiled.spec_key],
                workflow=self.workflow,
                dynamic=dynamic,
            )
            self.roles.append(role)

        self.runner = TaskFunction(
            self,
            "Runner",
            workflow_modules=shared.module_files,
            environment=shared.environment,
            architecture=settings.lambda_architecture,
            memory_mib=needs.lambda_memory_mib,
            ephemeral_storage_mib=needs.lambda_ephemeral_mib,
            dependencies=settings.runner_dependencies,
            cache_dir=settings.bundle_cache_dir,
            reserved_concurrency=settings.runner_reserved_concurrency,
        )
        grant(self.runner.role)
        self.image_functions: dict[str, ImageFunction] = image_functions(
            self,
            compiled=[compiled],
            specs=[spec],
            images=shared.images,
            environment=shared.environment,
            architecture=settings.lambda_architecture,
            grant=grant,
            dynamic=needs.dynamic_images if dynamic else (),
        )
        self.tasks: FargateCompute | None = None
        self.jobs: BatchCompute | None = None
        self.actors: ActorPools | None = None
        if needs.containers:
            assert shared.network is not None  # noqa: S101 - the stack makes it when any workflow needs it
            self.tasks = FargateCompute(
                self,
                "Tasks",
                shapes=list(needs.shapes),
                image=shared.image,
                environment=shared.environment,
                network=shared.network,
            )
            grant(self.tasks.task_role)
            if needs.batch_shapes:
                assert shared.queues is not None  # noqa: S101 - made with the pools every workflow uses
                self.jobs = BatchCompute(
                    self,
                    "Jobs",
                    pools=[],
                    shapes=needs.batch_shapes,
                    vpc=shared.network.vpc,
                    security_group=shared.network.security_group,
                    image=shared.image,
                    environment=shared.environment,
                    job_role=self.tasks.task_role,
                    execution_role=shared.network.execution_role,
                    queues_of=shared.queues,
                )
            if needs.pools:
                self.actors = self._actor_pools(compiled, needs.pools, shared)
        self.interpreter: DynamicInterpreter | None = None
        if dynamic:
            self._add_interpreter(shared, needs)

    def _actor_pools(
        self, compiled: asl.CompiledWorkflow, pools: Sequence[ActorPoolSpec], shared: SharedPlane
    ) -> ActorPools:
        """The workflow's actor environments' queues and workers: an environment with a
        ``container_image`` runs its workers on that image, the others on the shared one."""
        assert self.tasks is not None  # noqa: S101 - made first: its cluster and execution role
        actors = ActorPools(
            self,
            "Actors",
            pools=pools,
            compute=self.tasks,
            image=shared.image,
            images={pool.name: shared.images.container_image(pool.image) for pool in pools if pool.image},
            environment=shared.environment,
            runner_role=self.runner.role,
            bucket=shared.bucket,
            table=shared.table,
            spec_keys=[compiled.spec_key],
            workflow=self.workflow,
        )
        self.roles.extend(actors.worker_roles[name] for name in sorted(actors.worker_roles))
        # ARNs and subnet ids are tokens: CloudFormation joins them into the JSON at deploy.
        self.runner.function.add_environment(
            protocol.ENV_ACTORS, Stack.of(self).to_json_string(actors.setting.model_dump(mode="json"))
        )
        return actors

    def _add_interpreter(self, shared: SharedPlane, needs: WorkflowNeeds) -> None:
        tags = {
            task.image.tag for route, task in needs.dynamic_images if task.image and route.target == "lambda"
        }
        images = {tag: self.image_functions[protocol.image_function(tag)].function for tag in sorted(tags)}
        shapes = self.tasks.substitutions() if self.tasks is not None else {}
        fargate_tags = {
            task.image.tag for route, task in needs.dynamic_images if task.image and route.target != "lambda"
        }
        task_definitions = {
            tag: shapes[protocol.dynamic_task_definition(tag)] for tag in sorted(fargate_tags)
        }
        self.interpreter = DynamicInterpreter(
            self,
            "DynamicInterpreter",
            runner=self.runner.function,
            bucket=shared.bucket,
            compute=self.tasks,
            batch=self.jobs,
            image_functions=images,
            image_task_definitions=[protocol.dynamic_task_definition(tag) for tag in sorted(fargate_tags)],
            workflow=self.workflow,
        )
        queues = self.jobs.job_queues if self.jobs is not None else {}
        setting = protocol.DynamicCompute(
            fargate=protocol.Placeholder.DYNAMIC_TASK_DEFINITION in shapes,
            batch_queues={name: queue.job_queue_arn for name, queue in sorted(queues.items())},
            image_functions={tag: function.function_arn for tag, function in images.items()},
            image_task_definitions=task_definitions,
        )
        # Queue and function ARNs are tokens: CloudFormation joins them into the JSON at deploy.
        stack = Stack.of(self)
        self.runner.function.add_environment(
            protocol.ENV_DYNAMIC_COMPUTE, stack.to_json_string(setting.model_dump(mode="json"))
        )
        # An image function plans a @dynamic of its image (its body runs there), so it checks the
        # graph against the same compute; without the functions' ARNs (its own would be a cycle).
        for function in self.image_functions.values():
            function.function.add_environment(
                protocol.ENV_DYNAMIC_COMPUTE,
                stack.to_json_string(setting.tags_only().model_dump(mode="json")),
            )


def lambda_sizes(placed: Sequence[tuple[routing.Route, ir.TaskSpec]]) -> tuple[int, int]:
    """The runner's memory and ephemeral storage: the largest of its Lambda tasks without an image."""
    routes = [r for r, task in placed if r.target == "lambda" and task.image is None]
    memory = max([defaults.RUNNER_MEMORY_MIB, *(r.memory_mib for r in routes)])
    disk = max([512, *(r.ephemeral_storage_mib or 0 for r in routes)])
    return memory, disk
