"""Run a deployed stack's compute in this process: its runner functions (each under its own
deployed environment) and its task definitions (containers and actor workers), as
``_stack_triggers`` does for its starters."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from stratoflow import errors
from stratoflow.ir import protocol
from stratoflow.testing import _patches_actors
from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._patches_lambda import FakeLambdaContext

__all__ = ["RUNNER_HANDLER", "StackDeployError", "route_runner", "route_task_definitions", "stack_resources"]

RUNNER_HANDLER = "stratoflow_functions.task_runner.handler"


class StackDeployError(errors.ConfigError):
    """The stack did not reach CREATE_COMPLETE (the message names the failing resources), or it
    has no runner function to route."""


class _ProcessEnvironment:
    """``os.environ`` overlay for in-process Lambda invocations, shared by concurrent ones.

    A real function gets its configured environment per sandbox; in-process it can only
    be the process's. Concurrent invocations of one function (a Map) share one overlay,
    removed when the last ends. Two functions with different values at once cannot be
    emulated: that raises rather than letting one read the other's settings.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, str] | None = None
        self._users = 0
        self._saved: dict[str, str | None] = {}

    @contextmanager
    def overlay(self, values: Mapping[str, str]) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._active = dict(values)
                self._saved = {k: os.environ.get(k) for k in values}
                os.environ.update(values)
            elif self._active != dict(values):
                raise errors.ConfigError(
                    "two in-process Lambda functions with different environments overlap"
                )
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for key, value in self._saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                    self._active = None


_ENVIRONMENT = _ProcessEnvironment()


def stack_resources(aws: EmulatedAws, stack_name: str, resource_type: str) -> list[str]:
    pages = aws.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
    return [
        r["PhysicalResourceId"]
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == resource_type
    ]


def _handler_of(configuration: Mapping[str, Any]) -> str | None:
    """The handler a function runs: its ``Handler``, or a container-image function's command."""
    if configuration.get("PackageType") == "Image":
        command = configuration.get("ImageConfigResponse", {}).get("ImageConfig", {}).get("Command", [])
        return str(command[0]) if command else None
    handler = configuration.get("Handler")
    return None if handler is None else str(handler)


def route_runner(aws: EmulatedAws, stack_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Map the stack's runner functions (each workflow's zip one and its images') to the in-process
    handler, each under its own deployed environment; returns (zip runners, image runners)."""
    from stratoflow_functions import task_runner  # noqa: PLC0415 - needs the fake credentials set up

    lambda_client = aws.client("lambda")
    configurations = {
        name: lambda_client.get_function_configuration(FunctionName=name)
        for name in stack_resources(aws, stack_name, "AWS::Lambda::Function")
    }
    runners = [name for name, c in configurations.items() if _handler_of(c) == RUNNER_HANDLER]
    zipped = [name for name in runners if configurations[name].get("PackageType") != "Image"]
    if not zipped:
        raise StackDeployError(f"expected a Lambda function with handler {RUNNER_HANDLER}, found none")

    def route(name: str) -> None:
        def handler(event: dict[str, Any], context: FakeLambdaContext) -> Any:
            # Read at every invocation, as a new Lambda sandbox would: a later
            # UpdateFunctionConfiguration applies to the next call.
            configuration = lambda_client.get_function_configuration(FunctionName=name)
            with _ENVIRONMENT.overlay(configuration.get("Environment", {}).get("Variables", {})):
                return task_runner.handler(event, context)

        aws.register_lambda_handler(name, handler)

    for name in runners:
        route(name)
    return tuple(sorted(zipped)), tuple(sorted(set(runners) - set(zipped)))


_SCRATCH: list[str] = []
_SCRATCH_LOCK = threading.Lock()


def _scratch() -> str:
    """The in-process containers' scratch volume (TMPDIR): one directory for the process, removed at exit.

    Not one per task: a container points ``tempfile.tempdir`` at its TMPDIR while it runs, and
    in-process containers and actor workers are threads of one process whose runs overlap and
    end in any order, so a per-task directory could be left as ``tempfile.tempdir`` after its
    removal (every later temp file of the process would then fail).
    """
    with _SCRATCH_LOCK:
        if not _SCRATCH:
            _SCRATCH.append(tempfile.mkdtemp(prefix="stratoflow-scratch-"))
            atexit.register(shutil.rmtree, _SCRATCH[0], ignore_errors=True)
        return _SCRATCH[0]


def _container_entrypoint(env: dict[str, str], command: list[str]) -> int:
    """The container's main on the task definition's environment plus the emulator's credentials."""
    from stratoflow_functions import container_entrypoint  # noqa: PLC0415 - only when a Fargate node runs

    aws_settings = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    if "TMPDIR" not in env:
        return container_entrypoint.run({**aws_settings, **env})
    return container_entrypoint.run({**aws_settings, **env, "TMPDIR": _scratch()})


def _actor_worker(env: dict[str, str], stop: threading.Event) -> int:
    """An actor worker on the task definition's environment, as a thread (short polls: it stops at once)."""
    from stratoflow_functions import actor_worker  # noqa: PLC0415 - only when an actor task runs

    aws_settings = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    # Heartbeat as often as the emulator's scaled HeartbeatSeconds needs.
    fast = {protocol.ENV_ACTOR_HEARTBEAT_SECONDS: "0.1"}
    if "TMPDIR" in env:
        env = {**env, "TMPDIR": _scratch()}  # the containers' one scratch directory (see _scratch)
    return actor_worker.run({**aws_settings, **env, **fast}, stop=stop, max_poll_seconds=1)


def route_task_definitions(
    aws: EmulatedAws, stack_name: str
) -> tuple[tuple[str, ...], dict[str, _patches_actors.WorkerFamily]]:
    """Route every task definition in-process; returns the families and each actor environment's workers."""
    ecs = aws.client("ecs")
    families = []
    workers = {}
    for arn in stack_resources(aws, stack_name, "AWS::ECS::TaskDefinition"):
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        family = definition["family"]
        environment = {
            e["name"]: e["value"]
            for c in definition["containerDefinitions"]
            for e in c.get("environment", [])
        }
        if protocol.ENV_ACTOR_QUEUE in environment:  # an actor environment's workers
            workers[environment[protocol.ENV_ACTOR_NAME]] = _patches_actors.register_actor_worker(
                family, _actor_worker
            )
        else:
            aws.register_ecs_entrypoint(family, _container_entrypoint)
        families.append(family)
    return tuple(families), workers
