"""ASL states for one workflow node: the contract with the task runner, as plain JSON dicts.

Every state leaves its input untouched (``"ResultPath": null``), so the payload flowing
through the machine is always the small execution input; outputs live in S3, written by
the runner. States that must look at a result (the cache check, a Spot failure) park it
under one fixed key and a final ``Pass`` restores the execution input, so payloads never
grow with the number of nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stratoflow import ir, routing
from stratoflow.backends.asl._names import StateNames
from stratoflow.ir import protocol

__all__ = [
    "LAMBDA_INVOKE",
    "RUN_TASK_SYNC",
    "TASK_RUNNER",
    "Fragment",
    "NodeContext",
    "SpotFallback",
    "container_attempts",
    "container_environment",
    "ecs_network",
    "node_fragment",
    "restore_input",
    "retry_lambda_service",
    "runner_function",
    "spot_attempts",
    "task_definition_name",
]

State = dict[str, Any]

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
RUN_TASK_SYNC = "arn:aws:states:::ecs:runTask.sync"
TASK_RUNNER = protocol.ref(protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN)
_DEFAULT_FARGATE_DISK_MIB = 21 * 1024


@dataclass
class Fragment:
    """A piece of a state machine: where it starts, its states, and which states continue.

    ``exits`` are the states that go on to whatever follows the fragment; the chain builder
    gives them ``Next`` (or ``End``). ``Fail`` states are never exits.
    """

    entry: str
    states: dict[str, State]
    exits: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NodeContext:
    """Everything needed to emit one node's states.

    ``run`` is where the run id comes from (the execution's name, or the run a map child's
    ``BatchInput`` carries). ``items``, set only for a container map's batch, is the path of
    the batch's indices as a JSON string: the container then runs ``map_items`` on them.
    ``timeout_path`` replaces the task's literal ``TimeoutSeconds`` by ``TimeoutSecondsPath``
    (a container batch's limit depends on its size, known at run time).
    """

    node: ir.TaskNode | ir.MapNode
    task: ir.TaskSpec
    route: routing.Route
    spec_key: str | protocol.Path
    state_name: str
    run: protocol.Path = protocol.EXECUTION_NAME
    items: protocol.Path | None = None
    timeout_path: str | None = None


def runner_function(task: ir.TaskSpec) -> str:
    """The Lambda function that runs ``task``'s code: its image's function, or the shared runner.

    Example:
        >>> runner_function(ir.TaskSpec.model_construct(image=None)) == TASK_RUNNER
        True
    """
    if task.image is None:
        return TASK_RUNNER
    return protocol.ref(protocol.image_function(task.image.tag))


def task_definition_name(
    route: routing.Route, image: ir.ImageRef | None = None, secrets: Sequence[ir.SecretRequest] = ()
) -> str:
    """The task-definition placeholder name of a Fargate route (:func:`protocol.task_definition`).

    The shape is ``cpu<vCPUs>_mem<MiB>``, plus ``_disk<GiB>`` above Fargate's default
    ephemeral storage; a ``.`` in the vCPUs becomes ``_`` (``cpu0_25``); a task with an
    image has its own task definition per shape (:func:`protocol.image_shape`), and so does a
    task that requests secrets (``_sec<hash of their names>``): ECS injects a container's secrets
    from its task definition, so only the requesting tasks' definitions (and execution roles) hold them.

    Example:
        >>> route = routing.Route(target="fargate", memory_mib=16384, cpu=4.0)
        >>> task_definition_name(route)
        'TaskDef_cpu4_mem16384'
    """
    cpu = f"{route.cpu or 0.25:g}".replace(".", "_")
    shape = f"cpu{cpu}_mem{route.memory_mib}"
    disk = route.ephemeral_storage_mib or 0
    if disk > _DEFAULT_FARGATE_DISK_MIB:
        shape += f"_disk{-(-disk // 1024)}"
    shape += secrets_suffix(secrets)
    return protocol.task_definition(protocol.image_shape(shape, image.tag if image else None))


def secrets_suffix(secrets: Sequence[ir.SecretRequest]) -> str:
    """``_sec<hash of the secrets' names>`` for a container shape whose task requests secrets, else
    ``""``: a container's secrets come from its task or job definition, so only the requesting
    tasks' definitions (and execution roles) hold them.

    Example:
        >>> secrets_suffix(())
        ''
    """
    if not secrets:
        return ""
    names = "\n".join(sorted(secret.name for secret in secrets))
    return f"_sec{hashlib.sha256(names.encode()).hexdigest()[:12]}"


def _retry_task(retries: int) -> list[State]:
    if retries <= 0:
        return []
    return [
        {
            "ErrorEquals": [protocol.STATES_ALL],
            "MaxAttempts": retries,
            "IntervalSeconds": 1,
            "BackoffRate": 2.0,
            "JitterStrategy": "FULL",
        }
    ]


def retry_lambda_service() -> State:
    """Retry Lambda's own service errors (throttling, 5xx): they say nothing about the task."""
    return {
        "ErrorEquals": list(protocol.LAMBDA_TRANSIENT_ERRORS),
        "IntervalSeconds": 1,
        "MaxAttempts": 6,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    }


def _payload(ctx: NodeContext, mode: protocol.Mode | None = None) -> State:
    if mode is None:  # the node's own run: the runner reports which attempt it is, as locally
        return protocol.event_parameters(
            run=ctx.run, spec=ctx.spec_key, node=ctx.node.id, attempt=protocol.ATTEMPT
        )
    return protocol.event_parameters(run=ctx.run, spec=ctx.spec_key, node=ctx.node.id, mode=mode)


def _with_timeout(state: State, task: ir.TaskSpec, timeout_path: str | None = None) -> State:
    if timeout_path is not None:
        state["TimeoutSecondsPath"] = timeout_path
    elif task.timeout_seconds is not None:
        state["TimeoutSeconds"] = task.timeout_seconds
    return state


def container_environment(ctx: NodeContext, *, first_attempt: int = 1) -> list[dict[str, str]]:
    """The container's ``Environment`` override: the node's event (a map batch's when ``ctx.items``).

    A node's own run carries its attempt, counted from ``first_attempt`` (the on-demand state
    after Spot ones continues their count).
    """
    if ctx.items is None:
        return protocol.container_environment(
            run=ctx.run,
            spec=ctx.spec_key,
            node=ctx.node.id,
            attempt=protocol.attempt_path(first_attempt),
        )
    return protocol.container_environment(
        run=ctx.run, spec=ctx.spec_key, node=ctx.node.id, mode=protocol.Mode.MAP_ITEMS, items=ctx.items
    )


def _lambda_run(ctx: NodeContext) -> State:
    return _with_timeout(
        {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": runner_function(ctx.task), "Payload": _payload(ctx)},
            "ResultPath": None,
            "Retry": [retry_lambda_service(), *_retry_task(ctx.task.retries)],
        },
        ctx.task,
    )


def ecs_network() -> State:
    """A RunTask's ``NetworkConfiguration``: the stack's private subnets and task security group."""
    return {
        "AwsvpcConfiguration": {
            "Subnets": [protocol.ref(subnet) for subnet in protocol.SUBNETS],
            "SecurityGroups": [protocol.ref(protocol.Placeholder.TASK_SECURITY_GROUP)],
            "AssignPublicIp": "DISABLED",
        }
    }


def _ecs_run(ctx: NodeContext, *, spot: bool, retries: int, first_attempt: int = 1) -> State:
    parameters: State = {
        "Cluster": protocol.ref(protocol.Placeholder.CLUSTER_ARN),
        "TaskDefinition": protocol.ref(task_definition_name(ctx.route, ctx.task.image, ctx.task.secrets)),
        "NetworkConfiguration": ecs_network(),
        "Overrides": {
            "ContainerOverrides": [
                {
                    "Name": protocol.CONTAINER_NAME,
                    "Environment": container_environment(ctx, first_attempt=first_attempt),
                }
            ]
        },
    }
    if spot:
        # CapacityProviderStrategy and LaunchType are mutually exclusive in RunTask.
        parameters["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    else:
        parameters["LaunchType"] = "FARGATE"
    state: State = {"Type": "Task", "Resource": RUN_TASK_SYNC, "Parameters": parameters, "ResultPath": None}
    retry = _retry_task(retries)
    if retry:
        state["Retry"] = retry
    return _with_timeout(state, ctx.task, ctx.timeout_path)


def restore_input() -> State:
    # Every state keeps the execution input as its payload, so the execution input is
    # exactly what the payload was before this node parked a result in it.
    return {
        "Type": "Pass",
        "Parameters": {"input.$": "$$.Execution.Input"},
        "OutputPath": "$.input",
    }


def node_fragment(ctx: NodeContext, names: StateNames) -> Fragment:
    """The states that run one task node, routed to Lambda, Fargate (Spot) or AWS Batch (Spot).

    Args:
        ctx: The node, its task, route and the spec key.
        names: The definition-wide name registry (derived state names are claimed here).

    Returns:
        The node's fragment; its entry is ``ctx.state_name`` unless a cache check comes first.
    """
    if ctx.route.target == "lambda":
        return Fragment(ctx.state_name, {ctx.state_name: _lambda_run(ctx)}, [ctx.state_name])
    base = ctx.state_name
    states: dict[str, State] = {}
    exits = container_attempts(ctx, names, states)
    spot = ctx.route.target in _SPOT_TARGETS
    if not (spot or ctx.task.cache.enabled):
        return Fragment(base, states, exits)
    done = names.claim(base, suffix="__done")
    entry = base
    if ctx.task.cache.enabled:
        entry = _cache_check(ctx, names, states, run_state=base, done=done)
    for name in exits:
        states[name]["Next"] = done
    states[done] = restore_input()
    return Fragment(entry, states, [done])


_SPOT_TARGETS = ("fargate_spot", "batch_spot")


def container_attempts(ctx: NodeContext, names: StateNames, states: dict[str, State]) -> list[str]:
    """Add the states that run ``ctx`` in one container (Fargate or Batch, Spot pattern if
    interruptible), entered at ``ctx.state_name``; returns the exits (no cache check here).

    Args:
        ctx: The node, its container route, and where its event's run id (and a map batch's
            items) come from.
        names: The definition-wide name registry (derived names are claimed from ``ctx.state_name``).
        states: Where the states go (the scope ``ctx.state_name`` is entered in).
    """
    from stratoflow.backends.asl import _batch  # noqa: PLC0415 - _batch builds on this module

    batch = ctx.route.target in _batch.BATCH_TARGETS
    if ctx.route.target in _SPOT_TARGETS:
        return spot_attempts(ctx, names, states, _batch.SPOT_FALLBACK if batch else _ecs_fallback())
    run = _batch.submit_job if batch else _ecs_run
    states[ctx.state_name] = run(ctx, spot=False, retries=ctx.task.retries)
    return [ctx.state_name]


def _cache_check(
    ctx: NodeContext, names: StateNames, states: dict[str, State], *, run_state: str, done: str
) -> str:
    """Add the runner's cache lookup and a Choice that skips ``run_state`` on a hit; return the entry."""
    check = names.claim(ctx.state_name, suffix=f"__{protocol.Mode.CACHE_CHECK}")
    choice = names.claim(ctx.state_name, suffix="__cached")
    states[check] = {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": TASK_RUNNER, "Payload": _payload(ctx, protocol.Mode.CACHE_CHECK)},
        "ResultSelector": protocol.result_selector(protocol.Mode.CACHE_CHECK, "hit"),
        "ResultPath": "$.cache",
        "Retry": [retry_lambda_service()],
        "Next": choice,
    }
    states[choice] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.cache.hit", "BooleanEquals": True, "Next": done}],
        "Default": run_state,
    }
    return check


@dataclass(frozen=True)
class SpotFallback:
    """How one container service reports a reclaimed Spot attempt, for :func:`spot_attempts`.

    Attributes:
        run: Builds the service's state: ``run(ctx, spot=, retries=, first_attempt=)``.
        parsed: Where the parsed ``Cause`` (the ECS task or the Batch job) is kept under ``$.error``.
        field: The field of ``parsed`` that says why the attempt stopped.
        rule: The Choice comparison on ``field`` that means "reclaimed" (e.g. ``StringEquals``).
        choice_suffix: The suffix of the Choice state's name.
    """

    run: Callable[..., State]
    parsed: str
    field: str
    rule: State
    choice_suffix: str


def spot_attempts(
    ctx: NodeContext, names: StateNames, states: dict[str, State], fallback: SpotFallback
) -> list[str]:
    """Spot attempt (retried per ``retries``), then on-demand once if the last one was reclaimed.

    Any failure of the Spot state is retried on Spot by its ``Retry`` while attempts
    remain. When they run out, the ``Catch`` parses the ECS task or Batch job in the error
    ``Cause``: a reclaim (``fallback.rule`` on ``fallback.field``) runs one last attempt on
    on-demand capacity, anything else fails the execution with the original error. Returns
    the fragment's exits.
    """
    spot = ctx.state_name
    parse = names.claim(spot, suffix="__spot_failed")
    choice = names.claim(spot, suffix=fallback.choice_suffix)
    on_demand = names.claim(spot, suffix="__on_demand")
    failed = names.claim(spot, suffix="__failed")
    reason = f"$.error.{fallback.parsed}.{fallback.field}"
    states[spot] = fallback.run(ctx, spot=True, retries=ctx.task.retries)
    states[spot]["Catch"] = [
        {"ErrorEquals": [protocol.STATES_TASK_FAILED], "ResultPath": "$.error", "Next": parse}
    ]
    states[parse] = {
        "Type": "Pass",
        "Parameters": {
            "Error.$": "$.error.Error",
            "Cause.$": "$.error.Cause",
            f"{fallback.parsed}.$": "States.StringToJson($.error.Cause)",
        },
        "ResultPath": "$.error",
        "Next": choice,
    }
    states[choice] = {
        "Type": "Choice",
        # Rules are tried in order, so the comparison never sees a missing field.
        "Choices": [
            {"Not": {"Variable": reason, "IsPresent": True}, "Next": failed},
            {"Variable": reason, **fallback.rule, "Next": on_demand},
        ],
        "Default": failed,
    }
    # The last attempt: on-demand capacity and no more retries.
    states[on_demand] = fallback.run(ctx, spot=False, retries=0, first_attempt=ctx.task.retries + 2)
    # The caught error is always States.TaskFailed, and a Fail state may not raise a
    # States.* name, so the failure surfaces as the SDK's own, with the ECS task as Cause.
    states[failed] = {"Type": "Fail", "Error": protocol.TASK_FAILED, "CausePath": "$.error.Cause"}
    return [spot, on_demand]


def _ecs_fallback() -> SpotFallback:
    return SpotFallback(
        run=_ecs_run,
        parsed="ecs_task",
        field="StopCode",
        rule={"StringEquals": protocol.SPOT_INTERRUPTION_STOP_CODE},
        choice_suffix="__interrupted",
    )
