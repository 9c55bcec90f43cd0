"""Route a deployed stack's starters (the S3 trigger starter, the schedule starter) to their
in-process ``stratoflow_functions`` handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._patches_lambda import FakeLambdaContext

__all__ = [
    "SCHEDULE_STARTER_HANDLER",
    "TRIGGER_STARTER_HANDLER",
    "route_schedule_starter",
    "route_trigger_starter",
]

TRIGGER_STARTER_HANDLER = "stratoflow_functions.trigger_starter.handler"
SCHEDULE_STARTER_HANDLER = "stratoflow_functions.schedule_starter.handler"


def route_trigger_starter(aws: EmulatedAws, function_names: Sequence[str]) -> str | None:
    """Route the stack's trigger starter (the function among ``function_names`` with its handler).

    The starter gets the deployed function's environment passed in rather than overlaid on
    ``os.environ``: it runs inside the uploading ``PutObject``, while the execution it starts
    may already be invoking the runner, whose environment owns the overlay.

    Returns:
        The starter's function name, or ``None`` when the stack has no triggers.
    """
    from stratoflow_functions import trigger_starter  # noqa: PLC0415 - needs the fake credentials set up

    lambda_client = aws.client("lambda")
    names = [
        name
        for name in function_names
        if lambda_client.get_function_configuration(FunctionName=name).get("Handler")
        == TRIGGER_STARTER_HANDLER
    ]
    if not names:
        return None

    def handler(event: dict[str, Any], context: FakeLambdaContext) -> Any:
        # Read at every invocation, as a new Lambda sandbox would.
        configuration = lambda_client.get_function_configuration(FunctionName=names[0])
        return trigger_starter.start(event, configuration.get("Environment", {}).get("Variables", {}))

    aws.register_lambda_handler(names[0], handler)
    return names[0]


def route_schedule_starter(aws: EmulatedAws, function_names: Sequence[str]) -> str | None:
    """Route the stack's schedule starter, as :func:`route_trigger_starter` routes the trigger starter.

    moto's CloudFormation creates no ``AWS::Scheduler::Schedule`` (a canary pins it), so nothing
    invokes the starter by itself: a test invokes it with the event a schedule delivers.

    Returns:
        The starter's function name, or ``None`` when the stack schedules no launch plan.
    """
    from stratoflow_functions import schedule_starter  # noqa: PLC0415 - needs the fake credentials set up

    lambda_client = aws.client("lambda")
    names = [
        name
        for name in function_names
        if lambda_client.get_function_configuration(FunctionName=name).get("Handler")
        == SCHEDULE_STARTER_HANDLER
    ]
    if not names:
        return None

    def handler(event: dict[str, Any], context: FakeLambdaContext) -> Any:
        configuration = lambda_client.get_function_configuration(FunctionName=names[0])
        return schedule_starter.start(event, configuration.get("Environment", {}).get("Variables", {}))

    aws.register_lambda_handler(names[0], handler)
    return names[0]
