"""Running a node on AWS: one :class:`protocol.NodeEvent` against the S3 and DynamoDB stores.

The Lambda handler and the Fargate container entrypoint (``stratoflow_functions``) are thin
shells around :func:`run_node_event`; all behaviour lives in the shared runner. Not
re-exported by ``stratoflow.runtime``: only the AWS entry points import it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.aws import S3OutputStore
from stratoflow.define import deck_location
from stratoflow.errors import ConfigError, IntegrityError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.runtime._actors import ensure_workers
from stratoflow.runtime._aws_env import (
    AwsRunnerEnv,
    check_interpreter_event,
    event_workflow,
    load_run_options,
    load_spec,
    node_context,
)
from stratoflow.runtime._aws_settings import RunnerSettings
from stratoflow.runtime._branch import decide_branch, finish_branch
from stratoflow.runtime._dynamic import (
    DAG_BATCH,
    dynamic_cache_key,
    finish_dynamic,
    plan_dynamic,
    ready_nodes,
    sub_run_id,
)
from stratoflow.runtime._dynamic_dispatch import check_remote_graph, dispatch
from stratoflow.runtime._failure import caught_error, record_failure
from stratoflow.runtime._gates import finish_gate
from stratoflow.runtime._map import gather_map, map_batching, prepare_map, run_map_items
from stratoflow.runtime._remote_records import Where, container_where
from stratoflow.runtime._runner import NodeContext, lookup_node_cache, run_node
from stratoflow.runtime._timeouts import with_retries

if TYPE_CHECKING:
    pass

__all__ = [
    "AwsRunnerEnv",
    "RunnerSettings",
    "Where",
    "container_where",
    "event_workflow",
    "run_node_event",
    "step_functions_error",
]


Handler = Callable[[protocol.NodeEvent, AwsRunnerEnv, NodeContext], protocol.Result]


# Step Functions starts a state's timer before the runner starts: stop this much earlier.
_DEADLINE_MARGIN_SECONDS = 0.5


_INTERPRETER_MODES = frozenset({protocol.Mode.DAG_NEXT, protocol.Mode.DAG_RUN})
_MAP_MODES = frozenset({protocol.Mode.MAP_PREPARE, protocol.Mode.MAP_ITEMS, protocol.Mode.MAP_GATHER})


def run_node_event(
    event: protocol.NodeEvent, env: AwsRunnerEnv, *, remaining_seconds: float | None = None
) -> protocol.Result:
    """Run one event (in ``CACHE_CHECK`` mode, only look the node up); the small result a state keeps.

    ``remaining_seconds``: the invocation's time left (Lambda's context). A ``RUN`` attempt past its
    deadline (this or the task's ``timeout``, after which the state has failed) writes nothing.
    """
    if event.mode in _INTERPRETER_MODES or (
        event.mode in _MAP_MODES and protocol.spec_key_prefix(event.spec) == protocol.DYNAMIC_SPECS_PREFIX
    ):
        # The interpreter's map runner sends map events for a dynamic graph's map node, with
        # the sub-run and sub-spec read from its input: checked as its other events are.
        check_interpreter_event(event, env)
    spec = load_spec(env, event.spec)
    ctx = node_context(env, event_workflow(event), event.run, spec)
    seconds = _seconds_left(event, spec, remaining_seconds)
    if seconds is None:
        return _HANDLERS[event.mode](event, env, ctx)
    # Past the deadline the execution has moved on (States.Timeout): like an abandoned local
    # attempt, this one must then write neither its outputs nor a cache entry.
    timer = threading.Timer(max(seconds, 0.0), ctx.cancelled.set)
    timer.daemon = True
    timer.start()
    try:
        return _HANDLERS[event.mode](event, env, ctx)
    finally:
        timer.cancel()


def _seconds_left(event: protocol.NodeEvent, spec: ir.WorkflowSpec, remaining: float | None) -> float | None:
    if event.mode != protocol.Mode.RUN:
        return None
    node = spec.node(event.node)
    timeout = spec.tasks[node.task].timeout_seconds if isinstance(node, ir.TaskNode) else None
    limits = [t - _DEADLINE_MARGIN_SECONDS for t in (timeout, remaining) if t is not None]
    return min(limits) if limits else None


def _run(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    hit, _ = _run_recorded(event.node, env, ctx, event.attempt)
    return protocol.RunResult(node=event.node, hit=hit)


def _run_recorded(node: str, env: AwsRunnerEnv, ctx: NodeContext, attempt: int) -> tuple[bool, str | None]:
    def attempt_once() -> tuple[bool, str | None]:
        result = run_node(ctx, node, attempt=attempt)
        return result.cache_hit, result.cache_key

    deck = None
    if ctx.spec.tasks[ctx.spec.node(node).task].enable_deck and ctx.storage is not None:
        storage = ctx.storage
        deck = lambda: deck_location(storage, ctx.workflow, ctx.run_id, node)  # noqa: E731 - read once it ran
    return env.records(ctx.workflow, ctx.run_id).attempt(ctx.spec, node, attempt, attempt_once, deck=deck)


def _cache_check(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    now = time.time()
    hit = lookup_node_cache(ctx, event.node)
    if hit:  # a miss is recorded by the container that runs the node
        env.records(ctx.workflow, ctx.run_id).node(
            event.node, ir.NodeStatus.CACHED, cache_hit=True, started=now, finished=time.time()
        )
    return protocol.CacheCheckResult(node=event.node, hit=hit)


def _map_prepare(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    env.records(ctx.workflow, ctx.run_id).node(event.node, ir.NodeStatus.RUNNING, started=time.time())
    count = prepare_map(ctx, event.node)
    size, limit = map_batching(ctx, event.node, count)
    return protocol.MapPrepareResult(node=event.node, count=count, batch_size=size, batch_timeout=limit)


def _map_items(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    results = run_map_items(ctx, event.node, event.items or [])
    env.records(ctx.workflow, ctx.run_id).items(ctx.spec, event.node, results, event.attempt)
    failed = sum(r.error is not None for r in results.values())
    return protocol.MapItemsResult(node=event.node, items=len(results), failed=failed)


def _map_gather(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    gather_map(ctx, event.node)
    records = env.records(ctx.workflow, ctx.run_id)
    prepared = records.read(event.node)
    started = None if prepared is None else prepared.started
    records.node(event.node, ir.NodeStatus.SUCCEEDED, started=started, finished=time.time())
    return protocol.DoneResult(node=event.node)


def _dynamic_plan(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    # The node runs from here (its body traced) until _dynamic_finish (its sub-run done).
    records = env.records(ctx.workflow, ctx.run_id)
    ran = records.begin(ctx.spec, event.node, event.attempt)
    try:
        result = _plan(event, env, ctx)
    except BaseException as exc:
        records.fail(event.node, event.attempt, ran, exc)
        raise
    if result.hit:
        records.node(
            event.node, ir.NodeStatus.CACHED, cache_hit=True, started=ran["started"], finished=time.time()
        )
    return result


def _plan(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.DynamicPlanResult:
    plan = plan_dynamic(ctx, event.node)
    sub = sub_run_id(event.run, event.node)
    if plan.cached is not None:
        ctx.outputs.write_outputs(event.node, plan.cached)
        return protocol.DynamicPlanResult(node=event.node, hit=True, run=sub, spec="")
    assert plan.spec is not None  # noqa: S101 - a miss always carries the sub-workflow
    check_remote_graph(plan.spec, event.node, env.settings.dynamic_compute)
    body = protocol.spec_json_bytes(plan.spec)
    key = protocol.dynamic_spec_key(ctx.workflow, plan.spec.name, body)
    env.s3.put_object(Bucket=env.settings.bucket, Key=key, Body=body, ContentType="application/json")
    S3OutputStore(env.s3, env.settings.bucket, ctx.workflow, sub).write_inputs(plan.inputs)
    options = load_run_options(env, ctx.workflow, event.run)
    if not options.is_default:  # the sub-run runs as its parent does (no cache under --no-cache)
        env.s3.put_object(
            Bucket=env.settings.bucket,
            Key=protocol.run_options_key(ctx.workflow, sub),
            Body=options.model_dump_json().encode(),
            ContentType="application/json",
        )
    record = protocol.DynamicRunRecord(parent=event.run, node=event.node, spec=key)
    env.s3.put_object(
        Bucket=env.settings.bucket,
        Key=protocol.dynamic_run_key(ctx.workflow, sub),
        Body=record.model_dump_json().encode(),
        ContentType="application/json",
    )
    return protocol.DynamicPlanResult(node=event.node, hit=False, run=sub, spec=key)


def _dynamic_finish(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    if not (event.sub_run and event.sub_spec):
        raise ConfigError(f"{event.mode} needs sub_run and sub_spec (from {protocol.Mode.DYNAMIC_PLAN})")
    if protocol.spec_workflow(event.sub_spec) != ctx.workflow:
        raise IntegrityError(
            f"{event.mode} of a run of {ctx.workflow} names sub-spec {event.sub_spec!r:.120} of another "
            "workflow: refused",
            uri=event.sub_spec,
        )
    sub = node_context(env, ctx.workflow, event.sub_run, load_spec(env, event.sub_spec))
    finish_dynamic(ctx, event.node, sub, key=dynamic_cache_key(ctx, event.node))
    env.records(ctx.workflow, ctx.run_id).end(event.node)
    return protocol.DoneResult(node=event.node)


def _dag_next(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    done = S3OutputStore(env.s3, env.settings.bucket, ctx.workflow, event.run).completed_nodes()
    nodes, finished = ready_nodes(ctx, done, limit=DAG_BATCH)
    compute = env.settings.dynamic_compute
    dispatched = [dispatch(ctx.spec, node, compute) for node in nodes]
    # A sleep's Wait calls no runner: it sleeps from now, as a static one's start step records.
    sleeps = [node.node for node in dispatched if node.kind == protocol.Dispatch.SLEEP]
    for node_id in sleeps:
        _record_running(env, ctx, node_id)
    return protocol.DagNextResult(node="", nodes=dispatched, done=finished)


def _dag_run(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    # One node of a dynamic graph, in this process: a whole map node, or a task with its retries,
    # each recorded as a static node's are.
    node = ctx.spec.node(event.node)
    if isinstance(node, ir.MapNode):
        records = env.records(ctx.workflow, ctx.run_id)
        started = time.time()
        records.node(event.node, ir.NodeStatus.RUNNING, started=started)
        count = prepare_map(ctx, event.node)
        records.items(ctx.spec, event.node, run_map_items(ctx, event.node, list(range(count))))
        gather_map(ctx, event.node)
        records.node(event.node, ir.NodeStatus.SUCCEEDED, started=started, finished=time.time())
        return protocol.RunResult(node=event.node, hit=False)
    # No state times or retries a graph node's attempts: the runner does, as the local executor.
    task = ctx.spec.tasks[node.task]
    hit = with_retries(
        ctx,
        lambda attempt_ctx, attempt: _run_recorded(event.node, env, attempt_ctx, attempt)[0],
        retries=task.retries,
        timeout=task.timeout_seconds,
        label=event.node,
        base_seconds=1.0,
    )
    return protocol.RunResult(node=event.node, hit=hit)


def _branch_decide(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    case = decide_branch(ctx, event.node)
    _record_running(env, ctx, event.node)  # until its case has run, as a local run's record says
    return protocol.BranchDecideResult(node=event.node, case=case)


def _branch_finish(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    finish_branch(ctx, event.node)  # decides again: the compared values cannot have changed
    _record_finished(env, ctx, event.node)
    return protocol.DoneResult(node=event.node)


def _record_running(env: AwsRunnerEnv, ctx: NodeContext, node_id: str) -> None:
    """A node without attempts (a conditional, a gate) runs from now."""
    env.records(ctx.workflow, ctx.run_id).node(node_id, ir.NodeStatus.RUNNING, started=time.time())


def _record_finished(env: AwsRunnerEnv, ctx: NodeContext, node_id: str) -> None:
    """A node without attempts (a conditional, a gate) has succeeded, running since its record's start."""
    records = env.records(ctx.workflow, ctx.run_id)
    running = records.read(node_id)
    started = None if running is None else running.started
    records.node(node_id, ir.NodeStatus.SUCCEEDED, started=started, finished=time.time())


def _actor_ensure(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    return ensure_workers(
        ctx.spec,
        event.node,
        pools=env.settings.actors,
        dynamodb=env.dynamodb,
        table=env.settings.cache_table,
        workflow=ctx.workflow,
    )


def _gate_wait(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    gate = ctx.spec.gate(event.node)
    if gate.gate == "sleep":  # a static one's, before its Wait: it sleeps from now
        _record_running(env, ctx, gate.id)
        return protocol.DoneResult(node=event.node)
    if not event.token:
        raise ConfigError(f"{event.mode} needs the state's task token")
    record = protocol.GateRecord(token=event.token, node=gate.model_dump_json())
    env.s3.put_object(
        Bucket=env.settings.bucket,
        Key=protocol.gate_token_key(ctx.workflow, event.run, gate.name),
        Body=record.model_dump_json().encode(),
        ContentType="application/json",
    )
    _record_running(env, ctx, gate.id)  # waiting since now (gate_finish records how long it waited)
    return protocol.DoneResult(node=event.node)


def _gate_finish(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    gate = ctx.spec.gate(event.node)
    if gate.gate == "sleep":  # after its Wait: no outputs (a dynamic graph's dag_next reads it as done)
        ctx.outputs.write_outputs(gate.id, {})
    else:
        key = protocol.signal_key(ctx.workflow, event.run, gate.name)
        finish_gate(ctx, gate, env.s3.get_object(Bucket=env.settings.bucket, Key=key)["Body"].read())
    _record_finished(env, ctx, gate.id)
    return protocol.DoneResult(node=event.node)


def _failure_record(event: protocol.NodeEvent, env: AwsRunnerEnv, ctx: NodeContext) -> protocol.Result:
    message, node = caught_error(event.error or {})
    record_failure(ctx, message=message, node=node)
    return protocol.DoneResult(node=event.node)


_HANDLERS: dict[protocol.Mode, Handler] = {
    protocol.Mode.RUN: _run,
    protocol.Mode.CACHE_CHECK: _cache_check,
    protocol.Mode.MAP_PREPARE: _map_prepare,
    protocol.Mode.MAP_ITEMS: _map_items,
    protocol.Mode.MAP_GATHER: _map_gather,
    protocol.Mode.DYNAMIC_PLAN: _dynamic_plan,
    protocol.Mode.DYNAMIC_FINISH: _dynamic_finish,
    protocol.Mode.DAG_NEXT: _dag_next,
    protocol.Mode.DAG_RUN: _dag_run,
    protocol.Mode.BRANCH_DECIDE: _branch_decide,
    protocol.Mode.BRANCH_FINISH: _branch_finish,
    protocol.Mode.ACTOR_ENSURE: _actor_ensure,
    protocol.Mode.GATE_WAIT: _gate_wait,
    protocol.Mode.GATE_FINISH: _gate_finish,
    protocol.Mode.FAILURE_RECORD: _failure_record,
}


def step_functions_error(exc: TaskFailedError) -> Exception:
    """An exception whose class name is the user's exception name, so Step Functions' ``Error``
    (Lambda's ``errorType``) names it, and whose message is a JSON cause with the node id."""
    # An Error that cannot be a class name is the documented fallback (``Sdk.TaskFailed``).
    name = protocol.error_name(exc.error_type)
    error_class = type(name, (Exception,), {"__module__": "stratoflow.user"})
    error: Exception = error_class(protocol.FailureCause.of(exc).to_json())
    return error
