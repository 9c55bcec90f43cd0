"""Patches for actor tasks: heartbeat timeouts named as on AWS, fast heartbeats, workers as threads.

* ``install_heartbeat_timeout_name``: moto reports a ``.waitForTaskToken`` (or activity) state
  whose heartbeat timed out as ``States.Timeout``; AWS raises ``States.HeartbeatTimeout``,
  which is what an actor task's ``Catch`` sends to another worker.
* ``install_fast_heartbeats``: ``HeartbeatSeconds`` is waited in real time; scaled like the
  harness's other timers, so a lost worker is noticed in about a second, not a minute.
* ``install_task_failure_cause``: moto's ``SendTaskFailure`` drops the ``cause``, so a worker's
  ``FailureCause`` (node, attempt, message, traceback) never reaches the execution's error.
* ``install_ecs_workers``: a task of a registered worker family runs its Python worker on a
  thread and stays ``RUNNING`` (as listed by ``ListTasks``) until the worker returns; then it
  is ``STOPPED`` with the worker's exit code. Starts are counted per family.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.parser.api import HistoryEventType, TaskTimedOutEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatTimeoutError
from moto.stepfunctions.responses import StepFunctionResponse

from stratoflow.testing._patches_ecs import (
    SPOT_EXIT_CODE,
    ContainerReclaimed,
    missing_secret_reason,
    read_secrets,
)
from stratoflow.testing._patching import Patcher, Undo, install_patch

if TYPE_CHECKING:
    from moto.ecs.models import EC2ContainerServiceBackend

__all__ = [
    "ActorWorker",
    "WorkerFamily",
    "install_ecs_workers",
    "install_fast_heartbeats",
    "install_heartbeat_timeout_name",
    "install_task_failure_cause",
    "register_actor_worker",
    "unregister_actor_worker",
]

ActorWorker = Callable[[dict[str, str], threading.Event], int]
"""``worker(env, stop) -> exit code``: a worker container's main, run on its own thread."""

_LOG = logging.getLogger(__name__)


@dataclass
class WorkerFamily:
    """One worker task-definition family: its worker, and every start of it (for tests and benches)."""

    worker: ActorWorker
    starts: int = 0
    threads: list[threading.Thread] = field(default_factory=list)
    stops: list[threading.Event] = field(default_factory=list)

    def running(self) -> int:
        """Workers whose thread is alive."""
        return sum(thread.is_alive() for thread in self.threads)

    def stop_all(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop (SIGTERM) and wait for them."""
        for stop in self.stops:
            stop.set()
        for thread in self.threads:
            thread.join(timeout)


_FAMILIES: dict[str, WorkerFamily] = {}
_LOCK = threading.Lock()


def register_actor_worker(family: str, worker: ActorWorker) -> WorkerFamily:
    """Run ``worker`` on a thread for every task of ``family`` started from now on."""
    with _LOCK:
        _FAMILIES[family] = WorkerFamily(worker)
        return _FAMILIES[family]


def unregister_actor_worker(family: str) -> None:
    """Forget ``family`` (its running workers are stopped)."""
    with _LOCK:
        found = _FAMILIES.pop(family, None)
    if found is not None:
        found.stop_all()


def install_heartbeat_timeout_name() -> Undo:
    """Name a heartbeat timeout ``States.HeartbeatTimeout`` (moto says ``States.Timeout``)."""
    orig = StateTask._from_error
    heartbeat = StatesErrorNameType.StatesHeartbeatTimeout

    def from_error(self: StateTask, env: Any, ex: Exception) -> FailureEvent:
        if not isinstance(ex, HeartbeatTimeoutError):
            return orig(self, env, ex)
        # moto's EventDetails TypedDict is total=True although events carry one key.
        details: Any = {"taskTimedOutEventDetails": TaskTimedOutEventDetails(error=heartbeat.to_name())}
        return FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=heartbeat),
            event_type=HistoryEventType.TaskTimedOut,
            event_details=details,
        )

    def apply(p: Patcher) -> None:
        p.setattr(StateTask, "_from_error", from_error)

    return install_patch("install_heartbeat_timeout_name", apply)


def install_task_failure_cause() -> Undo:
    """Pass ``SendTaskFailure``'s ``cause`` on to the waiting state (moto keeps only ``error``)."""

    def send_task_failure(self: StepFunctionResponse) -> Any:
        from moto.core.responses import EmptyResult  # noqa: PLC0415 - moto's own reply type

        # The executing (parser) backend takes a cause; the typed base class does not.
        backend: Any = self.stepfunction_backend
        backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    def apply(p: Patcher) -> None:
        p.setattr(StepFunctionResponse, "send_task_failure", send_task_failure)

    return install_patch("install_task_failure_cause", apply)


def install_fast_heartbeats(scale: float) -> Undo:
    """Wait ``HeartbeatSeconds * scale`` for a heartbeat (a worker then beats more often too)."""
    orig = CallbackEndpoint.setup_heartbeat_endpoint

    def setup(self: CallbackEndpoint, heartbeat_seconds: int) -> Any:
        return orig(self, heartbeat_seconds=heartbeat_seconds * scale)  # type: ignore[arg-type]

    def apply(p: Patcher) -> None:
        p.setattr(CallbackEndpoint, "setup_heartbeat_endpoint", setup)

    return install_patch("install_fast_heartbeats", apply)


def _worker_env(task_definition: Any) -> tuple[dict[str, str], str | None]:
    """The worker container's environment: its variables and, as ECS injects them, its ``secrets``
    (an environment whose tasks request some); or the first ``valueFrom`` naming no secret."""
    container = task_definition.container_definitions[0]
    env = {e["name"]: e["value"] for e in container.get("environment") or []}
    secrets, missing = read_secrets(container.get("secrets") or [], str(task_definition.arn))
    return {**env, **secrets}, missing


def _serve(family: WorkerFamily, task: Any, env: dict[str, str], stop: threading.Event) -> None:
    stop_code, reason = "EssentialContainerExited", "Essential container in task exited"
    try:
        exit_code = int(family.worker(env, stop))
    except ContainerReclaimed:  # killed mid-task: its heartbeats stop with it
        exit_code, stop_code, reason = SPOT_EXIT_CODE, "SpotInterruption", "Your Spot Task was interrupted."
    except Exception:  # noqa: BLE001 - a crashed worker is exit code 1, as in a real container
        _LOG.exception("in-process actor worker raised")
        exit_code = 1
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stop_code = stop_code
    task.stopped_reason = reason
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = exit_code


def _failed_to_start(task: Any, missing: str) -> None:
    task.last_status = task.desired_status = "STOPPED"
    task.stop_code = "TaskFailedToStart"
    task.stopped_reason = missing_secret_reason(missing)


def install_ecs_workers() -> Undo:
    """Start a registered family's worker on a thread per new task (see the module docstring)."""

    def apply(p: Patcher) -> None:
        from moto.ecs.models import EC2ContainerServiceBackend  # noqa: PLC0415 - see install_patch

        orig = EC2ContainerServiceBackend.run_task

        def run_task(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
            return _start_workers(self, orig(self, *args, **kwargs))

        p.setattr(EC2ContainerServiceBackend, "run_task", run_task)

    return install_patch("install_ecs_workers", apply, service="ecs")


def _start_workers(backend: EC2ContainerServiceBackend, tasks: Any) -> Any:
    """Start a worker thread for each new task of a registered family (``install_ecs_workers``)."""
    for task in tasks:
        task_definition = backend.describe_task_definition(task.task_definition_arn)
        with _LOCK:
            family = _FAMILIES.get(task_definition.family)
            if family is None:
                continue
            env, missing = _worker_env(task_definition)
            if missing is not None:  # ECS fails such a task before its container starts
                _failed_to_start(task, missing)
                continue
            family.starts += 1
            stop = threading.Event()
            thread = threading.Thread(
                target=_serve,
                args=(family, task, env, stop),
                name=f"actor-worker-{task_definition.family}-{family.starts}",
                daemon=True,
            )
            family.threads.append(thread)
            family.stops.append(stop)
        task.last_status = "RUNNING"
        thread.start()
    return tasks
