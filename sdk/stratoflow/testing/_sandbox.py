"""A whole stratoflow stack in emulated AWS: deploy compiled workflows, run them, read outputs.

The same path a real deployment takes, minus CloudFormation: the compiled ASL is created
as a state machine with its placeholders filled (``FILLERS``), the IR is stored in the
bucket under the compiled ``spec_key``, and the real Lambda handler
(``stratoflow_functions.task_runner``) and container entrypoint run in-process.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TextIO

from stratoflow import ir, routing
from stratoflow.backends import asl
from stratoflow.client import Client, Execution
from stratoflow.define import TaskDef
from stratoflow.ir import protocol
from stratoflow.testing import _patches_actors, _patches_sfn
from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._patches_ecs import ContainerReclaimed, SpotInterruption

__all__ = ["Sandbox"]

_SETTINGS = {
    protocol.ENV_BUCKET: "stratoflow-sandbox-data",
    protocol.ENV_CACHE_TABLE: "stratoflow-sandbox-cache",
    # The EMF metrics flush prints to stdout; a sandbox run's stdout belongs to the user.
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
RUNNER_FUNCTION = "stratoflow-task-runner"
CONTAINER_FAMILY_PREFIX = "stratoflow-"
INTERPRETER_MACHINE = "stratoflow-dynamic-interpreter"
ACTOR_FAMILY_PREFIX = "stratoflow-actor-"
ACTOR_HEARTBEAT_SECONDS = "0.1"
"""How often an emulated worker heartbeats (the emulated ``HeartbeatSeconds`` is 12 s)."""
_DYNAMIC_BATCH_POOLS = ("cpu", "gpu")
EMULATED_REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
"""Where the sandbox says its image functions' images are (moto stubs ECR; nothing is pulled)."""


def task_runner_handler() -> Any:
    """The runner's handler (imported late: it needs the emulator's credentials set up)."""
    from stratoflow_functions import task_runner  # noqa: PLC0415

    return task_runner.handler


# A task requesting secrets has a job definition of its own (``_sec<hash>``), holding them.
_JOB_SHAPE = re.compile(r"vcpu(?P<vcpus>\d+)_mem(?P<memory>\d+)(?:_gpu(?P<gpus>\d+))?(?:_sec[0-9a-f]{12})?")


class Sandbox:
    """An emulated stratoflow stack (bucket, cache table, runner Lambda, ECS cluster, Batch queues).

    Example:
        >>> with Sandbox() as sandbox:  # doctest: +SKIP
        ...     outputs = sandbox.run(lower(pipeline), {"parts": 4}).outputs()
    """

    def __init__(self, aws: EmulatedAws | None = None, *, container_log: TextIO | None = None) -> None:
        """``container_log``: where the in-process containers' own lines go (default: stderr)."""
        self.container_log = container_log
        self._own_aws = aws is None
        self.aws = aws or EmulatedAws()
        self.bucket = _SETTINGS[protocol.ENV_BUCKET]
        self.table = _SETTINGS[protocol.ENV_CACHE_TABLE]
        self._saved_env: dict[str, str | None] = {}
        self._deployed: dict[str, tuple[str, asl.CompiledWorkflow]] = {}
        self._fixed: dict[str, str] = {}
        self._job_secrets: dict[str, dict[str, str]] = {}  # job shape -> env var -> secret name
        self._actor_secrets: dict[str, dict[str, str]] = {}  # actor slug -> env var -> secret name
        self.client: Client | None = None
        # Node id -> how many more container starts of that node a Spot reclaim interrupts.
        self.spot_interruptions: dict[str, int] = {}
        # Actor environment (placeholder slug) -> its ref and interruptibility, from deployed specs.
        self._actors: dict[str, tuple[ir.ActorRef, bool]] = {}
        self._pools: dict[str, protocol.ActorPool] = {}
        self.actor_workers: dict[str, _patches_actors.WorkerFamily] = {}
        self._dynamic_compute = protocol.DynamicCompute()
        """Environment name -> its emulated workers (``starts``, ``running()``)."""

    def __enter__(self) -> Self:
        if self._own_aws:
            self.aws.__enter__()
        for name, value in _SETTINGS.items():
            self._set_env(name, value)
        from stratoflow_functions import task_runner  # noqa: PLC0415 - needs the fake credentials set up

        self.aws.create_bucket(self.bucket)
        self.aws.create_cache_table(self.table)
        self._fixed[protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN] = self.aws.register_lambda(
            RUNNER_FUNCTION, task_runner.handler, environment=_SETTINGS
        )
        self.client = Client(
            s3=self.aws.client("s3"),
            sfn=self.aws.client("stepfunctions"),
            bucket=self.bucket,
            state_machines={},
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for name in list(self.actor_workers):
            _patches_actors.unregister_actor_worker(ACTOR_FAMILY_PREFIX + protocol.actor_slug(name))
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self._own_aws:
            self.aws.__exit__(exc_type, exc, tb)

    def _container_entrypoint(self, env: dict[str, str], command: list[str]) -> int:
        from stratoflow_functions import container_entrypoint  # noqa: PLC0415 - only when a Fargate node runs

        node = env.get(protocol.ENV_NODE, "")
        if self.spot_interruptions.get(node, 0) > 0:
            self.spot_interruptions[node] -= 1
            raise SpotInterruption(f"Your Spot Task was interrupted (node {node}).")
        try:
            return container_entrypoint.run({**os.environ, **env}, log=self.container_log)
        except ContainerReclaimed as exc:  # user code asked for a reclaim mid-task
            raise SpotInterruption(f"Your Spot Task was interrupted (node {node}): {exc}") from exc

    def _substitution(self, placeholder: str) -> str:
        """A value for one placeholder of compiled ASL, creating resources on demand."""
        if placeholder in self._fixed:
            return self._fixed[placeholder]
        if protocol.is_image_function(placeholder):
            # An image's container-image function, running the same in-process runner.
            tag = protocol.image_function_tag(placeholder)
            value = self.aws.register_lambda(
                f"{RUNNER_FUNCTION}-{tag}",
                task_runner_handler(),
                environment=_SETTINGS,
                image_uri=f"{EMULATED_REGISTRY}/stratoflow-image:{tag}",
            )
        elif protocol.is_task_definition(placeholder):
            shape = protocol.task_definition_shape(placeholder)
            family = CONTAINER_FAMILY_PREFIX + shape.replace("_", "-")
            value = self.aws.create_task_definition(
                family, container_name=protocol.CONTAINER_NAME, environment=_SETTINGS
            )
            self.aws.register_ecs_entrypoint(family, self._container_entrypoint)
        elif protocol.is_actor_queue(placeholder):
            value = self._actor_queue(placeholder.removeprefix(protocol.ACTOR_QUEUE_PREFIX))
        elif protocol.is_batch_queue(placeholder):
            pool = placeholder.removeprefix(protocol.BATCH_QUEUE_PREFIX)
            value = self.aws.create_batch_queue(CONTAINER_FAMILY_PREFIX + pool.replace("_", "-"))
        elif protocol.is_batch_job_definition(placeholder):
            value = self._job_definition(placeholder.removeprefix(protocol.BATCH_JOB_DEFINITION_PREFIX))
        elif placeholder in FILLERS:
            value = FILLERS[protocol.Placeholder(placeholder)](self)
        else:
            raise KeyError(f"the sandbox cannot fill placeholder {protocol.ref(placeholder)}")
        self._fixed[placeholder] = value
        return value

    def _actor_queue(self, slug: str) -> str:
        """An environment's queue, its worker task definition (run as threads), and its pool."""
        actor, spot = self._actors[slug]
        url = str(self.aws.client("sqs").create_queue(QueueName=f"{ACTOR_FAMILY_PREFIX}{slug}")["QueueUrl"])
        family = ACTOR_FAMILY_PREFIX + slug
        worker_env = {
            **_SETTINGS,
            protocol.ENV_ACTOR_NAME: actor.name,
            protocol.ENV_ACTOR_QUEUE: url,
            protocol.ENV_ACTOR_TTL_SECONDS: str(actor.ttl_seconds),
            protocol.ENV_ACTOR_HEARTBEAT_SECONDS: ACTOR_HEARTBEAT_SECONDS,
        }
        arn = self.aws.create_task_definition(
            family,
            container_name=protocol.CONTAINER_NAME,
            environment=worker_env,
            secrets=self._actor_secrets.get(slug),
        )
        self.actor_workers[actor.name] = _patches_actors.register_actor_worker(family, self._actor_worker)
        self._pools[slug] = protocol.ActorPool(
            cluster=self._substitution(protocol.Placeholder.CLUSTER_ARN),
            task_definition=arn,
            subnets=[self._substitution(subnet) for subnet in protocol.SUBNETS],
            security_groups=[self._substitution(protocol.Placeholder.TASK_SECURITY_GROUP)],
            spot=spot,
        )
        self._set_env(protocol.ENV_ACTORS, protocol.ActorPools(pools=self._pools).model_dump_json())
        return url

    def _actor_worker(self, env: dict[str, str], stop: threading.Event) -> int:
        from stratoflow_functions import actor_worker  # noqa: PLC0415 - only when an actor task runs

        # A one-second long poll, so the sandbox stops its workers at once when it closes.
        return actor_worker.run({**os.environ, **env}, log=self.container_log, stop=stop, max_poll_seconds=1)

    def _job_definition(self, shape: str) -> str:
        """Register the job definition of a ``vcpu<N>_mem<MiB>[_gpu<N>]`` shape, run in-process."""
        if protocol.batch_job_definition(shape) == protocol.Placeholder.DYNAMIC_JOB_DEFINITION:
            # Sized per job by the interpreter's ResourceRequirements overrides.
            match = _JOB_SHAPE.fullmatch("vcpu1_mem2048")
        else:
            match = _JOB_SHAPE.fullmatch(protocol.split_image_shape(shape)[0])  # per image: same size
        if match is None:
            raise KeyError(f"the sandbox cannot read Batch job shape {shape!r}")
        name = CONTAINER_FAMILY_PREFIX + shape.replace("_", "-")
        arn = self.aws.create_job_definition(
            name,
            vcpus=int(match["vcpus"]),
            memory_mib=int(match["memory"]),
            gpus=int(match["gpus"] or 0),
            environment=_SETTINGS,
            secrets=self._job_secrets.get(shape),
        )
        self.aws.register_batch_entrypoint(name, self._container_entrypoint)
        return arn

    def _interpreter(self) -> str:
        """One interpreter state machine runs every dynamic sub-graph, with all the dynamic compute
        a stack can have: the generic task and job definitions and the cpu and gpu Batch pools."""
        interpreter = json.dumps(asl.interpreter_definition(), sort_keys=True, separators=(",", ":"))
        queues = {
            protocol.batch_queue(pool, spot=spot): ""
            for pool in _DYNAMIC_BATCH_POOLS
            for spot in (False, True)
        }
        self._dynamic_compute = self._dynamic_compute.model_copy(
            update={"fargate": True, "batch_queues": {name: self._substitution(name) for name in queues}}
        )
        self._set_env(protocol.ENV_DYNAMIC_COMPUTE, self._dynamic_compute.model_dump_json())
        substitutions = {name: self._substitution(name) for name in protocol.placeholders_in(interpreter)}
        return self.aws.create_state_machine(INTERPRETER_MACHINE, interpreter, substitutions)

    def _dynamic_images(self, spec: ir.WorkflowSpec) -> None:
        """As the stack does (``infra.stacks.dynamic_compute``): for the dynamic graphs of a workflow
        with a ``@dynamic`` node, the function or generic task definition of each image of its
        module's Lambda or Fargate tasks."""
        if not any(task.kind == "dynamic" for task in spec.tasks.values()):
            return
        module = importlib.import_module(spec.ref.partition(":")[0])
        targets: dict[str, set[str]] = {}
        for value in vars(module).values():
            if isinstance(value, TaskDef) and value.spec.image is not None and value.spec.kind != "dynamic":
                targets.setdefault(routing.route_task(value.spec).target, set()).add(value.spec.image.tag)
        functions = {
            tag: self._substitution(protocol.image_function(tag)) for tag in targets.get("lambda", ())
        }
        fargate = targets.get("fargate", set()) | targets.get("fargate_spot", set())
        definitions = {tag: self._substitution(protocol.dynamic_task_definition(tag)) for tag in fargate}
        compute = self._dynamic_compute
        self._dynamic_compute = compute.model_copy(
            update={
                "image_functions": {**compute.image_functions, **functions},
                "image_task_definitions": {**compute.image_task_definitions, **definitions},
            }
        )
        self._set_env(protocol.ENV_DYNAMIC_COMPUTE, self._dynamic_compute.model_dump_json())

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def deploy(self, spec: ir.WorkflowSpec) -> asl.CompiledWorkflow:
        """Compile ``spec`` and create its state machine (once per distinct IR)."""
        if self.client is None:
            raise RuntimeError("use Sandbox as a context manager")
        compiled = asl.compile_workflow(spec)
        deployed = self._deployed.get(spec.name)
        if deployed is not None and deployed[1].spec_key == compiled.spec_key:
            return compiled
        self.aws.client("s3").put_object(Bucket=self.bucket, Key=compiled.spec_key, Body=compiled.spec_json)
        for task in spec.tasks.values():
            if task.actor is not None:
                slug = protocol.actor_slug(task.actor.name)
                self._actors[slug] = (task.actor, task.interruptible)
                # The environment's workers get every secret its tasks request (as the stack's do).
                self._actor_secrets.setdefault(slug, {}).update({r.env_var: r.name for r in task.secrets})
            self._note_job_secrets(task)
        substitutions = {name: self._substitution(name) for name in compiled.placeholders}
        self._dynamic_images(spec)
        machine_name = f"{spec.name[:60]}-{compiled.spec_key.rsplit('/', 1)[-1][:12]}"
        arn = self.aws.create_state_machine(machine_name, compiled.deployed_json(), substitutions)
        self._deployed[spec.name] = (arn, compiled)
        self.client.state_machines[spec.name] = arn
        return compiled

    def _note_job_secrets(self, task: ir.TaskSpec) -> None:
        """Remember the secrets of a Batch task that requests some, for its job definition's
        container ``secrets`` (injected when a job starts, as AWS Batch does: ``_patches_batch``)."""
        if not task.secrets:
            return
        try:
            route = routing.route_task(task)
        except routing.RoutingError:
            return  # compiling the workflow says so
        if route.target in ("batch", "batch_spot"):
            shape = asl.batch_job_definition_name(route, task.image, task.secrets)
            self._job_secrets[shape.removeprefix(protocol.BATCH_JOB_DEFINITION_PREFIX)] = {
                secret.env_var: secret.name for secret in task.secrets
            }

    def wait_ended(self, execution: Execution, poll_seconds: float = 0.25) -> None:
        """Return once ``execution`` has ended: at once when its emulated worker finishes, else
        when a poll sees a final status first (stopped or timed out, its thread still going).

        The polls are for those rare ends only, so they are slow: each is an emulated
        DescribeExecution, whose few milliseconds the running execution's threads wait for."""
        ended = _patches_sfn.execution_ended(execution.arn)
        if ended is None:  # not started here: nothing to wait on
            return
        while not ended.wait(poll_seconds):
            if execution.status() != "RUNNING":
                return

    def run(
        self,
        spec: ir.WorkflowSpec,
        inputs: Mapping[str, Any],
        *,
        timeout: float = 120,
        cache: bool = True,
        overwrite_cache: bool = False,
    ) -> Execution:
        """Deploy (if needed), submit, and wait for one execution; raises if it failed.
        ``cache=False``: no task of it reads or writes the cache; ``overwrite_cache=True``: its
        cached tasks run again and replace their entries (``Client.submit``)."""
        self.deploy(spec)
        assert self.client is not None  # noqa: S101 - set by deploy's guard
        return self.client.submit(spec, inputs, cache=cache, overwrite_cache=overwrite_cache).wait(
            timeout=timeout
        )


def _runner_arn(sandbox: Sandbox) -> str:
    raise RuntimeError("the sandbox registers the runner when it starts; use it as a context manager")


FILLERS: dict[protocol.Placeholder, Callable[[Sandbox], str]] = {
    protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN: _runner_arn,
    # Where the runner writes items.json for the Distributed Map's ItemReader.
    protocol.Placeholder.DATA_BUCKET: lambda sandbox: sandbox.bucket,
    protocol.Placeholder.CLUSTER_ARN: lambda sandbox: sandbox.aws.create_ecs_cluster("stratoflow"),
    protocol.Placeholder.PRIVATE_SUBNET_1: lambda sandbox: sandbox.aws.create_subnet(),
    protocol.Placeholder.PRIVATE_SUBNET_2: lambda sandbox: sandbox.aws.create_subnet(),
    protocol.Placeholder.TASK_SECURITY_GROUP: lambda sandbox: "sg-emulated",
    protocol.Placeholder.DYNAMIC_INTERPRETER_ARN: lambda sandbox: sandbox._interpreter(),
    # Also TaskDef_/BatchJobDef_ names, so _substitution makes them like any shape.
    protocol.Placeholder.DYNAMIC_TASK_DEFINITION: lambda sandbox: sandbox._substitution(
        protocol.Placeholder.DYNAMIC_TASK_DEFINITION
    ),
    protocol.Placeholder.DYNAMIC_JOB_DEFINITION: lambda sandbox: sandbox._substitution(
        protocol.Placeholder.DYNAMIC_JOB_DEFINITION
    ),
}
"""How the sandbox fills each fixed placeholder (task definitions are made per shape)."""
