"""Patches for moto's CloudFormation, so a synthesized CDK template deploys and its state machines run.

Five gaps stand between ``create_stack`` and an executing stack (moto-findings §6):

* CloudFormation creates ``AWS::StepFunctions::StateMachine`` in the plain Step Functions
  backend, while ``execute_state_machine`` makes the API read the executing (parser) one,
  so the stack's state machines do not exist for ``StartExecution``;
* moto ignores ``DefinitionSubstitutions``, so the definitions keep CDK's ``${...}``
  placeholders;
* every walk over the stack re-warns about each unsupported resource type, which
  ``filterwarnings = error`` turns into a failed API call;
* custom resources invoke their provider Lambda in a background thread, through Docker,
  and wait for an HTTP reply that never comes: the stack stays ``CREATE_IN_PROGRESS``;
* ``AWS::Lambda::Function`` drops ``PackageType`` and ``ImageConfig``, so a container-image
  function is created as a ``Zip`` one without its command.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3  # type: ignore[import-untyped]  # only the per-service mypy_boto3 stubs are installed
from botocore import xform_name  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto.awslambda import models as lambda_models
from moto.core.config import default_user_config
from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from stratoflow.testing._patching import Patcher, Undo, install_patch

if TYPE_CHECKING:
    # moto's CloudFormation imports every service's models: its patches wait for a stack.
    from moto.cloudformation.custom_model import CustomModel

__all__ = [
    "CustomResourceFailedError",
    "CustomResourceHandler",
    "install_cfn_custom_resources",
    "install_cfn_definition_substitutions",
    "install_cfn_lambda_images",
    "install_cfn_sfn_parser_backend",
    "install_cfn_skip_unsupported",
    "register_custom_resource_handler",
]

CustomResourceHandler = Callable[[dict[str, Any], str], tuple[str | None, dict[str, Any]]]
"""``handler(resource_properties, region) -> (physical id or None, Data)``, run at create time."""

_LOG = logging.getLogger(__name__)
_SFN_BACKEND_LOCK = threading.RLock()
_HANDLERS_LOCK = threading.Lock()


class CustomResourceFailedError(Exception):
    """Raise from a custom resource handler to fail the resource with this message as its reason."""


def install_cfn_sfn_parser_backend() -> Undo:
    """Create CloudFormation's state machines in the backend that the Step Functions API serves.

    moto fix: ``StateMachine.create/update/delete_from_cloudformation_json`` use the
    module-global ``stepfunctions_backends``; with ``execute_state_machine`` the API uses
    ``stepfunctions_parser_backends`` instead, so every CFN-made machine is
    ``StateMachineDoesNotExist``. The patch rebinds that global to the executing backends
    for the duration of those three calls (nothing else in the module reads it), under a
    lock, and only when the mock is configured to execute.
    """

    def routed(original: Any) -> Any:
        def call(cls: type, /, *args: Any, **kwargs: Any) -> Any:
            if not default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
                return original.__func__(cls, *args, **kwargs)
            module: Any = sfn_models  # the global's declared type is the plain backend's
            with _SFN_BACKEND_LOCK:
                plain = module.stepfunctions_backends
                module.stepfunctions_backends = stepfunctions_parser_backends
                try:
                    return original.__func__(cls, *args, **kwargs)
                finally:
                    module.stepfunctions_backends = plain

        return classmethod(call)

    def apply(p: Patcher) -> None:
        machine = sfn_models.StateMachine
        for name in (
            "create_from_cloudformation_json",
            "update_from_cloudformation_json",
            "delete_from_cloudformation_json",
        ):
            p.setattr(machine, name, routed(vars(machine)[name]))

    return install_patch("install_cfn_sfn_parser_backend", apply)


def _substitute(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    properties = cloudformation_json.get("Properties", {})
    values = properties.get("DefinitionSubstitutions")
    definition = properties.get("DefinitionString")
    if not values or not isinstance(definition, str):
        return cloudformation_json
    for key, value in values.items():
        definition = definition.replace("${" + key + "}", str(value))
    return {**cloudformation_json, "Properties": {**properties, "DefinitionString": definition}}


def install_cfn_definition_substitutions() -> Undo:
    """Apply a state machine's ``DefinitionSubstitutions`` to its ``DefinitionString``.

    moto fix: moto ignores ``DefinitionSubstitutions`` (which CDK's
    ``definition_substitutions`` emits), so the deployed definition still names the
    runner's placeholder and the first Task fails with
    ``Lambda.ResourceNotFoundException``. As on AWS, each ``${Key}`` with a mapping is
    replaced by the (already resolved) value; placeholders without one stay as written.
    """

    machine = sfn_models.StateMachine
    original_create = vars(machine)["create_from_cloudformation_json"]
    original_update = vars(machine)["update_from_cloudformation_json"]

    def create(
        cls: type,
        /,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        resolved = _substitute(cloudformation_json)
        return original_create.__func__(cls, resource_name, resolved, account_id, region_name, **kwargs)

    def update(  # noqa: PLR0917 - moto's signature
        cls: type,
        /,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        resolved = _substitute(cloudformation_json)
        return original_update.__func__(
            cls, original_resource, new_resource_name, resolved, account_id, region_name
        )

    def apply(p: Patcher) -> None:
        p.setattr(machine, "create_from_cloudformation_json", classmethod(create))
        p.setattr(machine, "update_from_cloudformation_json", classmethod(update))

    return install_patch("install_cfn_definition_substitutions", apply)


def install_cfn_skip_unsupported() -> Undo:
    """Skip resource types moto's CloudFormation lacks without a ``UserWarning``.

    moto emits ``UserWarning: Tried to parse AWS::CloudWatch::Alarm but it's not
    supported`` not once but every time it walks the stack (``ListStackResources``,
    ``DescribeStackResources``...), because it never remembers the skipped resource.
    Under ``filterwarnings = error`` each of those API calls then raises, and
    ``create_stack`` stops halfway. The patch skips them the same way (they are simply
    absent from the stack's resources) with only moto's own log line.
    """

    def apply(p: Patcher) -> None:
        from moto.cloudformation import parsing as cfn_parsing  # noqa: PLC0415 - see install_patch

        original = cfn_parsing.parse_resource

        def parse_resource(resource_json: dict[str, Any], resources_map: Any) -> Any:
            if cfn_parsing.resource_class_from_type(resource_json["Type"]) is None:
                return None
            return original(resource_json, resources_map)

        p.setattr(cfn_parsing, "parse_resource", parse_resource)

    return install_patch("install_cfn_skip_unsupported", apply, service="cloudformation")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """AwsCustomResource's ``Data``: nested response keys joined with dots, lists by index."""
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value if isinstance(value, str | int | float | bool) or value is None else str(value)}
    flat: dict[str, Any] = {}
    for key, child in items:
        flat.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _sdk_call(call: Mapping[str, Any], region: str) -> dict[str, Any]:
    """Perform an ``AwsSdkCall`` (SDK v2 or v3 naming) with boto3 against the mock."""
    service = str(call["service"]).removeprefix("@aws-sdk/client-").replace("-", "").lower()
    client = boto3.session.Session(region_name=call.get("region") or region).client(service)
    wanted = str(call["action"]).removesuffix("Command").lower()
    operations = {op.lower(): op for op in client.meta.service_model.operation_names}
    if wanted not in operations:
        raise CustomResourceFailedError(f"{service} has no action {call['action']!r}")
    response: dict[str, Any] = getattr(client, xform_name(operations[wanted]))(**call.get("parameters", {}))
    response.pop("ResponseMetadata", None)
    return response


def _aws_custom_resource(properties: dict[str, Any], region: str) -> tuple[str | None, dict[str, Any]]:
    """What CDK's ``AwsCustomResource`` provider (``Custom::AWS``) does on Create, synchronously.

    Runs the ``Create`` SDK call, honours ``ignoreErrorCodesMatching``, and returns the
    physical id (``physicalResourceId.id`` or ``.responsePath``) and the flattened
    response, filtered by ``outputPaths``. Update and Delete are not emulated.
    """
    call = properties.get("Create")
    if call is None:
        return None, {}
    call = json.loads(call) if isinstance(call, str) else call
    try:
        data = _flatten(_sdk_call(call, region))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        ignore = call.get("ignoreErrorCodesMatching")
        if ignore and re.fullmatch(ignore, code):
            data = {}
        else:
            raise CustomResourceFailedError(f"{call['service']}.{call['action']} failed: {exc}") from exc
    if call.get("outputPaths"):
        data = {k: v for k, v in data.items() if any(k.startswith(p) for p in call["outputPaths"])}
    physical = call.get("physicalResourceId") or {}
    physical_id = physical.get("id") or (
        data.get(physical["responsePath"]) if "responsePath" in physical else None
    )
    return (None if physical_id is None else str(physical_id)), data


def _bucket_notifications(properties: dict[str, Any], region: str) -> tuple[str | None, dict[str, Any]]:
    """What CDK's bucket-notifications handler (``Custom::S3BucketNotifications``) does on Create
    for a bucket whose notifications CDK manages: put the whole configuration (here: EventBridge)."""
    client = boto3.session.Session(region_name=region).client("s3")
    client.put_bucket_notification_configuration(
        Bucket=properties["BucketName"],
        NotificationConfiguration=properties.get("NotificationConfiguration") or {},
        SkipDestinationValidation=str(properties.get("SkipDestinationValidation", "false")).lower() == "true",
    )
    return None, {}


_HANDLERS: dict[str, CustomResourceHandler] = {
    "Custom::AWS": _aws_custom_resource,
    "Custom::S3BucketNotifications": _bucket_notifications,
}


def register_custom_resource_handler(resource_type: str, handler: CustomResourceHandler) -> None:
    """Complete custom resources of ``resource_type`` in-process (see install_cfn_custom_resources).

    Example:
        >>> register_custom_resource_handler("Custom::Noop", lambda properties, region: (None, {}))  # doctest: +SKIP
    """
    with _HANDLERS_LOCK:
        _HANDLERS[resource_type] = handler


def _fail(stack: Any, resource: CustomModel, resource_type: str, reason: str) -> None:
    from moto.cloudformation.models import Event  # noqa: PLC0415 - loaded by then (a stack is being created)

    # moto records no resource events; this one is how deploy_stack learns why it is stuck.
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=resource.logical_id,
            physical_resource_id=resource.physical_resource_id,
            resource_type=resource_type,
            resource_status="CREATE_FAILED",
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def install_cfn_custom_resources() -> Undo:
    """Complete custom resources in-process and synchronously, inside ``create_stack``.

    moto fix: ``CustomModel`` invokes the provider Lambda on a thread (Docker for a
    Node.js provider) and waits for a reply to a ResponseURL, so the stack never leaves
    ``CREATE_IN_PROGRESS``; a reply from another thread would race moto's create loop.
    For a registered type (``Custom::AWS`` and ``Custom::S3BucketNotifications`` built in)
    the patch runs the handler before returning the resource, so it is complete when moto
    checks. A handler failure leaves
    the resource incomplete and records a ``CREATE_FAILED`` stack event with the reason
    (moto has no rollback). Unregistered types keep moto's behaviour.
    """

    def apply(p: Patcher) -> None:
        from moto.cloudformation.custom_model import CustomModel  # noqa: PLC0415 - see install_patch
        from moto.cloudformation.models import cloudformation_backends  # noqa: PLC0415

        original = vars(CustomModel)["create_from_cloudformation_json"]

        def create(
            cls: type[CustomModel],
            /,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> CustomModel:
            resource_type = kwargs["ResourceType"]
            with _HANDLERS_LOCK:
                handler = _HANDLERS.get(resource_type)
            if handler is None:
                return original.__func__(  # type: ignore[no-any-return]
                    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
                )
            # moto itself instantiates this "abstract" class: it only lacks update/delete support.
            resource = CustomModel(region_name, "in-process", kwargs["LogicalId"], resource_name)  # type: ignore[abstract]
            stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
            stack.add_custom_resource(resource)
            try:
                physical_id, data = handler(dict(cloudformation_json["Properties"]), region_name)
            except Exception as exc:  # noqa: BLE001 - any handler error fails the resource, as a provider's FAILED reply does
                _LOG.debug("custom resource %s failed", resource.logical_id, exc_info=True)
                _fail(stack, resource, resource_type, f"{type(exc).__name__}: {exc}")
                return resource
            if physical_id:
                resource.resource_name = physical_id
            resource.set_data(data)
            return resource

        p.setattr(CustomModel, "create_from_cloudformation_json", classmethod(create))

    return install_patch("install_cfn_custom_resources", apply, service="cloudformation")


def install_cfn_lambda_images() -> Undo:
    """Create a template's container-image Lambda functions as ``PackageType: Image`` ones.

    moto fix: ``LambdaFunction.create_from_cloudformation_json`` copies a fixed list of
    properties that lacks ``PackageType`` and ``ImageConfig``, so an image function (its
    ``Code`` an ``ImageUri``) becomes a ``Zip`` function with no command, which no harness can
    tell from any other. The patch sets both on the created function, as ``CreateFunction``
    with those parameters would have.
    """

    def apply(p: Patcher) -> None:
        original = vars(lambda_models.LambdaFunction)["create_from_cloudformation_json"]

        def create(cls: type, /, *args: Any, **kwargs: Any) -> Any:
            function = original.__func__(cls, *args, **kwargs)
            cloudformation_json = kwargs.get("cloudformation_json", args[1] if len(args) > 1 else {})
            properties = cloudformation_json.get("Properties", {})
            if properties.get("PackageType") == "Image":
                function.package_type = "Image"
                function.image_config = lambda_models.ImageConfig(properties.get("ImageConfig", {}))
            return function

        p.setattr(lambda_models.LambdaFunction, "create_from_cloudformation_json", classmethod(create))

    return install_patch("install_cfn_lambda_images", apply)
