"""Patches for moto's Step Functions service integrations (Task states calling AWS APIs)."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]
from botocore.model import OperationModel, ServiceModel  # type: ignore[import-untyped]
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.utils import camel_to_snake_case

from stratoflow.testing._patches_sfn import rebind_everywhere
from stratoflow.testing._patching import Patcher, Undo, install_patch

_MODELS: dict[str, ServiceModel | None] = {}
_OPERATIONS: dict[tuple[str, str], OperationModel | None] = {}
_MODELS_LOCK = threading.Lock()


def _operation_model(service: str, action: str) -> OperationModel | None:
    """The botocore operation for ``service`` and a snake_case ``action``, cached."""
    key = (service, action)
    with _MODELS_LOCK:
        if key in _OPERATIONS:
            return _OPERATIONS[key]

        if service not in _MODELS:
            try:
                _MODELS[service] = botocore.session.get_session().get_service_model(service)
            except UnknownServiceError:
                _MODELS[service] = None
        model = _MODELS[service]
        operation = None
        if model is not None:
            names = {camel_to_snake_case(name): name for name in model.operation_names}
            if action in names:
                operation = model.operation_model(names[action])
        _OPERATIONS[key] = operation
        return operation


def _timestamps_to_epoch_millis(value: Any) -> None:
    """Replace datetimes in place by epoch milliseconds, the form integrations return on AWS.

    boto3 parses timestamps into datetimes, which moto's execution output cannot serialise
    (``describe_execution`` then raises ``TypeError: Object of type datetime``).
    """
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            value[key] = int(item.timestamp() * 1000)
        else:
            _timestamps_to_epoch_millis(item)


def install_integration_normalisation() -> Undo:
    """Restore request/response normalisation for service integrations from the botocore model.

    moto stubs ``StateTaskService._normalise_parameters/_normalise_response`` (LocalStack's
    versions need its service catalogue). Without them PascalCase ASL parameters reach
    lowerCamelCase APIs unchanged, so ``states:startExecution.sync(:2)`` fails with
    States.Runtime ``'StateMachineArn'`` and ``ecs:runTask.sync`` with ``'Cluster'``, and
    responses are not turned back into the PascalCase Step Functions returns.
    """

    def normalise_parameters(
        self: StateTaskService,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)

    def normalise_response(
        self: StateTaskService,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)
        _timestamps_to_epoch_millis(response)

    def apply(p: Patcher) -> None:
        p.setattr(StateTaskService, "_normalise_parameters", normalise_parameters)
        p.setattr(StateTaskService, "_normalise_response", normalise_response)

    return install_patch("install_integration_normalisation", apply)


def install_retry_sync_fix() -> Undo:
    """Give every attempt of a ``.sync``/``.waitForTaskToken`` task its own task token.

    moto creates the token once per state, and the first attempt interrupts its callback
    endpoint when it ends. A retried attempt then waits on the interrupted endpoint and
    fails at once with ``States.Timeout`` instead of running again.
    """

    orig = StateTaskServiceCallback._eval_execution

    def eval_execution(self: StateTaskServiceCallback, env: Any) -> None:
        data = env.states.context_object.context_object_data
        retrying = data.get("State", {}).get("RetryCount", 0) > 0
        if (
            retrying
            and self._is_integration_pattern()  # type: ignore[no-untyped-call]
            and ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
        ):
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        orig(self, env)

    def apply(p: Patcher) -> None:
        p.setattr(StateTaskServiceCallback, "_eval_execution", eval_execution)

    return install_patch("install_retry_sync_fix", apply)


_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def install_client_cache() -> Undo:
    """Reuse one boto3 client per (service, region, endpoint) inside the interpreter.

    moto's ``boto_client_for`` builds a new boto3 client (loading the service model) for
    every Task state and every ``.sync`` poll: about two thirds of a Lambda task's cost.
    Clients are thread-safe once built; building them is not, hence the lock.
    """

    orig = boto_client.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # The endpoint depends on whether moto intercepts in-process or runs as a server.
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(key)
            if client is None:
                client = orig(region=region, service=service, state_credentials=state_credentials)
                _CLIENTS[key] = client
            return client

    def apply(p: Patcher) -> None:
        rebind_everywhere(p, orig, boto_client_for, "boto_client_for")
        p.on_undo(_CLIENTS.clear)

    return install_patch("install_client_cache", apply)
