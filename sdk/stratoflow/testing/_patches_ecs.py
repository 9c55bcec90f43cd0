"""Patches for moto's ECS backend and the Step Functions ``ecs:runTask`` integration."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_ecs as sfn_ecs,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from stratoflow.testing._patching import Patcher, Undo, install_patch

if TYPE_CHECKING:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ecs.models import EC2ContainerServiceBackend, Task

EcsEntrypoint = Callable[[dict[str, str], list[str]], int]
"""``entrypoint(env, command) -> exit code``: the container's main, run in-process."""

_LOG = logging.getLogger(__name__)
_ENTRYPOINTS: dict[str, EcsEntrypoint] = {}
_ENTRYPOINTS_LOCK = threading.Lock()

SPOT_EXIT_CODE = 143  # SIGTERM: what a container sees when Fargate Spot reclaims it


class SpotInterruption(Exception):
    """Raise from an in-process ECS entrypoint to simulate a Fargate Spot reclaim.

    The task stops with ``stopCode=SpotInterruption`` and exit code 143.

    Example:
        >>> def entrypoint(env: dict[str, str], command: list[str]) -> int:
        ...     raise SpotInterruption("reclaimed")
    """


class ContainerReclaimed(BaseException):
    """Raise from user code in an emulated container to reclaim the container mid-task.

    A ``BaseException``, so the runner's user-error boundary does not record it as the
    task's failure: like the SIGKILL after a Spot warning, it ends the whole container (the
    Sandbox turns it into a :class:`SpotInterruption`), whatever items its batch had left.
    """


def register_ecs_entrypoint(family: str, entrypoint: EcsEntrypoint) -> None:
    """Run ``entrypoint`` for every task of task-definition ``family`` (see install_ecs_inprocess)."""
    with _ENTRYPOINTS_LOCK:
        _ENTRYPOINTS[family] = entrypoint


def unregister_ecs_entrypoint(family: str) -> None:
    """Forget the entrypoint of ``family``."""
    with _ENTRYPOINTS_LOCK:
        _ENTRYPOINTS.pop(family, None)


def install_ecs() -> Undo:
    """Fix three moto ECS crashes that AWS does not have, and let FARGATE_SPOT through.

    * a Fargate task definition with task-level memory only:
      ``TypeError: unsupported operand type(s) for +=: 'int' and 'NoneType'``;
    * awsvpc without securityGroups: ``KeyError: 'securityGroups'``;
    * a VPC without EnableDnsHostnames: ``'NetworkInterface' object has no attribute
      'private_dns_name'``;
    * the Step Functions ecs integration's parameter whitelist silently drops
      ``CapacityProviderStrategy``, so moto tries EC2 placement ("No instances found").

    The whitelist is widened at once (the interpreter reads it before it calls ECS); the
    model fixes wait for moto to load ECS (see ``install_patch``'s ``service``).
    """
    run_task_params: set[str] = sfn_ecs._SUPPORTED_API_PARAM_BINDINGS["runtask"]

    def apply(p: Patcher) -> None:
        if "CapacityProviderStrategy" not in run_task_params:
            run_task_params.add("CapacityProviderStrategy")
            p.on_undo(lambda: run_task_params.discard("CapacityProviderStrategy"))

    undo_whitelist = install_patch("install_ecs", apply)
    undo_models = install_patch("install_ecs_models", _apply_ecs_model_fixes, service="ecs")

    def undo() -> None:
        undo_models()
        undo_whitelist()

    return undo


def _apply_ecs_model_fixes(p: Patcher) -> None:
    """The model half of ``install_ecs``; imports moto's ECS (and so EC2) models."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface  # noqa: PLC0415 - see install_patch
    from moto.ec2.utils import generate_dns_from_ip  # noqa: PLC0415
    from moto.ecs.models import EC2ContainerServiceBackend, Task  # noqa: PLC0415

    orig_requirements = EC2ContainerServiceBackend._calculate_task_resource_requirements
    orig_task_init = Task.__init__
    orig_eni_init = NetworkInterface.__init__

    def requirements(task_definition: Any) -> dict[str, Any]:
        keys = ("memory", "memoryReservation", "Memory", "MemoryReservation")
        containers = [
            c if any(c.get(k) is not None for k in keys) else {**c, "memory": 0}
            for c in task_definition.container_definitions
        ]
        # The original only reads .container_definitions, so a stand-in object is enough.
        stand_in: Any = SimpleNamespace(container_definitions=containers)
        return orig_requirements(stand_in)

    def task_init(self: Task, *args: Any, **kwargs: Any) -> None:
        conf: dict[str, Any] = kwargs.get("networking_configuration") or {}
        vpc = conf.get("awsvpcConfiguration")
        if isinstance(vpc, dict) and "securityGroups" not in vpc:
            kwargs["networking_configuration"] = {
                **conf,
                "awsvpcConfiguration": {**vpc, "securityGroups": []},
            }
        orig_task_init(self, *args, **kwargs)

    def eni_init(self: NetworkInterface, *args: Any, **kwargs: Any) -> None:
        orig_eni_init(self, *args, **kwargs)
        if not hasattr(self, "private_dns_name"):
            self.private_dns_name = generate_dns_from_ip(self.private_ip_address)

    p.setattr(EC2ContainerServiceBackend, "_calculate_task_resource_requirements", staticmethod(requirements))
    p.setattr(Task, "__init__", task_init)
    p.setattr(NetworkInterface, "__init__", eni_init)


def _merge_env_and_command(
    task_definition: Any, overrides: dict[str, Any]
) -> tuple[str, dict[str, str], list[str]]:
    container = task_definition.container_definitions[0]
    name = container.get("name", "")
    env = {e["name"]: e["value"] for e in container.get("environment") or []}
    command = list(container.get("command") or [])
    for override in overrides.get("containerOverrides") or []:
        if override.get("name", name) != name:
            continue
        env.update({e["name"]: e["value"] for e in override.get("environment") or []})
        if override.get("command") is not None:
            command = list(override["command"])
    return name, env, command


def _container_secrets(task_definition: Any) -> tuple[dict[str, str], str | None]:
    """The container definition's ``secrets`` as ECS injects them (:func:`read_secrets`, in the task
    definition's account and region)."""
    return read_secrets(
        task_definition.container_definitions[0].get("secrets") or [], str(task_definition.arn)
    )


def missing_secret_reason(missing: str) -> str:
    """Why ECS or AWS Batch did not start a container whose secret ``missing`` does not exist (AWS's text)."""
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: "
        f"ResourceNotFoundException: Secrets Manager can't find the specified secret {missing}"
    )


def read_secrets(secrets: list[dict[str, str]], owner_arn: str) -> tuple[dict[str, str], str | None]:
    """A container's ``secrets`` as ECS and AWS Batch inject them: name -> value, read from moto's
    Secrets Manager of the account and region of ``owner_arn`` (its task or job definition), or
    the first ``valueFrom`` that names no secret.

    moto stores the ``secrets`` of a task or job definition but runs nothing, so it never reads them.
    """
    if not secrets:
        return {}, None
    from moto.secretsmanager.exceptions import SecretNotFoundException  # noqa: PLC0415
    from moto.secretsmanager.models import secretsmanager_backends  # noqa: PLC0415 - only with secrets

    _, _, _, region, account, _ = owner_arn.split(":", 5)
    backend = secretsmanager_backends[account][region]
    found: dict[str, str] = {}
    for secret in secrets:
        try:
            value = backend.get_secret_value(secret["valueFrom"], None, None)  # type: ignore[arg-type]
        except SecretNotFoundException:
            return {}, secret["valueFrom"]
        found[secret["name"]] = value["SecretString"]
    return found, None


def _run_entrypoint(
    entrypoint: EcsEntrypoint, env: dict[str, str], command: list[str]
) -> tuple[int, str, str]:
    """Run the container's main and map its outcome to (exit code, stopCode, stoppedReason)."""
    try:
        exit_code = int(entrypoint(env, command))
    except SpotInterruption:
        return SPOT_EXIT_CODE, "SpotInterruption", "Your Spot Task was interrupted."
    except Exception:  # noqa: BLE001 - a crash of the container's main is exit code 1, as in a real container
        _LOG.exception("in-process ECS entrypoint raised")
        exit_code = 1
    return exit_code, "EssentialContainerExited", "Essential container in task exited"


def install_ecs_inprocess() -> Undo:
    """Run a registered Python entrypoint, in-process and synchronously, for each new task.

    moto's tasks run nothing; they walk RUNNING→STOPPED one step per DescribeTasks with exit
    code 0. Here RunTask calls ``entrypoint(env, command)`` (task definition merged with the
    overrides), then marks the task STOPPED with the container's exit code, ``stopCode`` and
    ``stoppedReason``. Families without an entrypoint keep moto's behaviour.
    """

    def apply(p: Patcher) -> None:
        from moto.ecs.models import EC2ContainerServiceBackend  # noqa: PLC0415 - see install_patch

        orig = EC2ContainerServiceBackend.run_task

        def run_task(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
            return _run_task(orig, self, *args, **kwargs)

        p.setattr(EC2ContainerServiceBackend, "run_task", run_task)

    return install_patch("install_ecs_inprocess", apply, service="ecs")


def _run_task(orig: Callable[..., Any], self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
    """``RunTask`` that runs each new task's registered entrypoint (``install_ecs_inprocess``)."""
    tasks = orig(self, *args, **kwargs)
    for task in tasks:
        task_definition = self.describe_task_definition(task.task_definition_arn)
        with _ENTRYPOINTS_LOCK:
            entrypoint = _ENTRYPOINTS.get(task_definition.family)
        if entrypoint is None:
            continue
        name, env, command = _merge_env_and_command(task_definition, task.overrides or {})
        secrets, missing = _container_secrets(task_definition)
        if missing:
            # ECS fails such a task before its container starts; runTask.sync then fails.
            exit_code, stop_code = 1, "TaskFailedToStart"
            reason = missing_secret_reason(missing)
        else:
            exit_code, stop_code, reason = _run_entrypoint(entrypoint, {**env, **secrets}, command)
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stop_code = stop_code  # serialised as stopCode
        task.stopped_reason = reason
        for container in task.containers:
            container.last_status = "STOPPED"
            container.exitCode = exit_code if container.name == name else 0
    return tasks


def install_ecs_sync_failure() -> Undo:
    """Fail ``ecs:runTask.sync`` with ``States.TaskFailed`` when a container exits non-zero.

    moto's sync resolver only waits for STOPPED and ignores exit codes, so a crashed task
    succeeds. The Cause is the DescribeTasks task JSON (PascalCase), like AWS, which lets a
    workflow tell a Spot reclaim (``StopCode``) from an application failure.
    """

    orig = StateTaskServiceEcs._build_sync_resolver
    failed = StatesErrorNameType.StatesTaskFailed

    def build_sync_resolver(self: StateTaskServiceEcs, env: Any, *args: Any, **kwargs: Any) -> Any:
        resolver = orig(self, env, *args, **kwargs)
        if resolver is None:
            return None

        def checked() -> Any:
            task = resolver()
            if task and any(c.get("ExitCode", 0) not in (0, None) for c in task.get("Containers", [])):
                details = TaskFailedEventDetails(
                    resource=self._get_sfn_resource(),
                    resourceType=self._get_sfn_resource_type(),
                    error=failed.to_name(),
                    cause=to_json_str(task),
                )
                # moto's EventDetails TypedDict is total=True although events carry one key.
                event_details: Any = {"taskFailedEventDetails": details}
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=failed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=event_details,
                    )
                )
            return task

        return checked

    def apply(p: Patcher) -> None:
        p.setattr(StateTaskServiceEcs, "_build_sync_resolver", build_sync_resolver)

    return install_patch("install_ecs_sync_failure", apply)
