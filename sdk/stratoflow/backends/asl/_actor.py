"""ASL states for an actor task (``@env.task``): its event goes to a warm worker through a queue.

An actor task node is, after the usual cache check of a container task:

1. ``<node>__ensure``: the runner (``Mode.ACTOR_ENSURE``) counts the environment's running
   workers and starts the shortfall up to ``replica_count`` (``ecs:RunTask``); its
   ``ResultSelector`` starts the count of lost workers at 0 (``$.actor.lost``);
2. ``<node>``: ``sqs:sendMessage.waitForTaskToken`` to the environment's queue, with
   ``HeartbeatSeconds``. A worker takes the message, heartbeats while the task runs and answers
   with ``SendTaskSuccess`` / ``SendTaskFailure`` (the same error name and cause as the runner
   Lambda), so the task's ``retries`` apply as to any task (``Retry`` on ``States.ALL``);
3. a lost worker (Spot reclaim, crash) sends no heartbeat: ``States.HeartbeatTimeout`` is never
   retried in place (its retrier has ``MaxAttempts: 0``) but caught, counted, and sent back
   through the ensure step (``<node>__ensure_again``, which keeps the count), which replaces
   the worker, and the queue state sends the task
   again. After ``protocol.ACTOR_MAX_LOST`` losses the node fails with ``protocol.ACTOR_LOST``.

The attempt the worker reports is the queue state's try plus the workers lost so far, so a task
re-run after a loss counts as a new attempt, as a reclaimed container's re-run does.

Why SQS with ``.waitForTaskToken`` rather than a Step Functions activity: the README's
architecture section ("Actors") records the decision; in short, moto 5.2.5 runs it (activities
have no ``GetActivityTask`` there), and a queue per environment is also what scales workers on AWS.

An actor ``map_task`` keeps prepare and gather; the parent ensures workers once after prepare,
and the Distributed Map's STANDARD children (EXPRESS ones cannot wait for a task token) each send
one batch of items (``Mode.MAP_ITEMS``) through the same queue, with the same lost-worker path.
At most ``replica_count`` children run at once (fewer if ``concurrency`` says so).

``HeartbeatSeconds`` counts from when the message is sent, not from when a worker takes it, so
a message that waits in the queue longer than that (more concurrent actor tasks than workers,
each long) times out as if its worker were lost and is sent again; the worker that later takes
the stale message finds its token refused and skips it, so nothing runs twice.
"""

from __future__ import annotations

from typing import Any, Final

from stratoflow import ir
from stratoflow.backends.asl._map import BATCH_RUN, MAX_LABEL, _item_reader, spec_workflow_literal
from stratoflow.backends.asl._names import StateNames, sanitize
from stratoflow.backends.asl._states import (
    LAMBDA_INVOKE,
    TASK_RUNNER,
    Fragment,
    _retry_task,
    restore_input,
    retry_lambda_service,
)
from stratoflow.ir import protocol
from stratoflow.runtime._batching import tolerated_failure_percentage

__all__ = ["SQS_SEND_WAIT", "actor_fragment", "actor_map_states"]

State = dict[str, Any]

SQS_SEND_WAIT: Final = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
_ACTOR: Final = "$.actor"  # where the node parks its count of lost workers
_LOST: Final = f"{_ACTOR}.lost"
_ATTEMPT: Final = protocol.Path(f"States.MathAdd({protocol.ATTEMPT.expr}, {_LOST})")


def _ensure(run: protocol.Path, spec: str | protocol.Path, node: str, next_state: str) -> State:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {
            "FunctionName": TASK_RUNNER,
            "Payload": protocol.event_parameters(
                run=run, spec=spec, node=node, mode=protocol.Mode.ACTOR_ENSURE
            ),
        },
        "ResultPath": None,
        "Retry": [retry_lambda_service()],
        "Next": next_state,
    }


def _send(task: ir.TaskSpec, body: State, *, retries: int, timeout: int | None, lost: str) -> State:
    assert task.actor is not None  # noqa: S101 - only actor tasks reach here
    state: State = {
        "Type": "Task",
        "Resource": SQS_SEND_WAIT,
        "Parameters": {
            "QueueUrl": protocol.ref(protocol.actor_queue(task.actor.name)),
            "MessageBody": body,
        },
        "HeartbeatSeconds": protocol.ACTOR_HEARTBEAT_SECONDS,
        "ResultPath": None,
        # The first matching retrier decides: a lost worker is never retried in place (the
        # queue state would wait for a worker nobody replaces) but caught and re-ensured.
        "Retry": [
            {"ErrorEquals": [protocol.STATES_HEARTBEAT_TIMEOUT], "MaxAttempts": 0},
            *_retry_task(retries),
        ],
        "Catch": [
            {"ErrorEquals": [protocol.STATES_HEARTBEAT_TIMEOUT], "ResultPath": "$.error", "Next": lost}
        ],
    }
    if timeout is not None:
        state["TimeoutSeconds"] = timeout
    return state


def _lost_worker_states(names: StateNames, base: str, *, ensure: str, states: dict[str, State]) -> str:
    """Count a lost worker and go back through ``ensure``, or fail after too many; returns the entry."""
    lost = names.claim(base, suffix="__worker_lost")
    count = names.claim(base, suffix="__retry_elsewhere")
    failed = names.claim(base, suffix="__workers_lost")
    states[lost] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": _LOST, "NumericGreaterThanEquals": protocol.ACTOR_MAX_LOST - 1, "Next": failed}
        ],
        "Default": count,
    }
    states[count] = {
        "Type": "Pass",
        "Parameters": {"lost.$": f"States.MathAdd({_LOST}, 1)"},
        "ResultPath": _ACTOR,
        "Next": ensure,
    }
    states[failed] = {
        "Type": "Fail",
        "Error": protocol.ACTOR_LOST,
        "Cause": f"the workers running this task were lost {protocol.ACTOR_MAX_LOST} times "
        "(no heartbeat for HeartbeatSeconds)",
    }
    return lost


def _start_count(next_state: str) -> State:
    return {"Type": "Pass", "Result": {"lost": 0}, "ResultPath": _ACTOR, "Next": next_state}


def actor_fragment(
    node: ir.TaskNode,
    task: ir.TaskSpec,
    *,
    spec_key: str,
    state_name: str,
    names: StateNames,
    cache_check: Any,
) -> Fragment:
    """The states of one actor task node (module docstring); ``cache_check(run_state, done)`` adds
    the container tasks' cache lookup and returns its entry (``_states._cache_check``)."""
    base = state_name
    states: dict[str, State] = {}
    start = names.claim(base, suffix="__ensure")
    again = names.claim(base, suffix="__ensure_again")
    lost = _lost_worker_states(names, base, ensure=again, states=states)
    body = protocol.actor_message_body(
        run=protocol.EXECUTION_NAME, spec=spec_key, node=node.id, attempt=_ATTEMPT
    )
    # The first ensure step also starts the count of lost workers (one state less per node
    # than a separate Pass); the one after a loss keeps the count.
    states[start] = _ensure(protocol.EXECUTION_NAME, spec_key, node.id, base)
    states[start]["ResultSelector"] = {"lost": 0}
    states[start]["ResultPath"] = _ACTOR
    states[again] = _ensure(protocol.EXECUTION_NAME, spec_key, node.id, base)
    states[base] = _send(task, body, retries=task.retries, timeout=task.timeout_seconds, lost=lost)
    done = names.claim(base, suffix="__done")
    states[base]["Next"] = done
    states[done] = restore_input()
    entry = start
    if task.cache.enabled:
        entry = cache_check(states, run_state=start, done=done)
    return Fragment(entry, states, [done])


def actor_map_states(
    node: ir.MapNode,
    task: ir.TaskSpec,
    *,
    spec_key: str,
    state_name: str,
    names: StateNames,
) -> tuple[str, dict[str, State], str]:
    """The chained states of an actor ``map_task`` node: returns (entry, states, exit)."""
    prepare = names.claim(state_name, suffix="__prepare")
    ensure = names.claim(state_name, suffix="__ensure")
    batch = names.claim(state_name, suffix="__batch")
    gather = names.claim(state_name, suffix="__gather")
    run = protocol.EXECUTION_NAME

    def invoke(mode: protocol.Mode, next_state: str) -> State:
        return {
            "Type": "Task",
            "Resource": LAMBDA_INVOKE,
            "Parameters": {
                "FunctionName": TASK_RUNNER,
                "Payload": protocol.event_parameters(run=run, spec=spec_key, node=node.id, mode=mode),
            },
            "ResultPath": None,
            "Retry": [retry_lambda_service()],
            "Next": next_state,
        }

    batch_size = node.batch_size or protocol.ACTOR_BATCH_SIZE
    timeout = None
    if task.timeout_seconds:  # a batch's worst case: every item on every attempt
        timeout = task.timeout_seconds * batch_size * (task.retries + 1)
    child: dict[str, State] = {}
    child_start = names.claim(batch, suffix="__actor")
    child_ensure = names.claim(batch, suffix="__ensure")
    lost = _lost_worker_states(names, batch, ensure=child_ensure, states=child)
    body = protocol.actor_message_body(
        run=BATCH_RUN,
        spec=spec_key,
        node=node.id,
        mode=protocol.Mode.MAP_ITEMS,
        items=protocol.Path("$.Items"),
    )
    child[child_start] = _start_count(batch)
    child[child_ensure] = _ensure(BATCH_RUN, spec_key, node.id, batch)
    child[batch] = _send(task, body, retries=task.retries, timeout=timeout, lost=lost)
    # What the Map collects per batch: keep it at `{}` (the worker's results are in S3).
    child[batch]["OutputPath"] = None
    child[batch]["End"] = True
    map_state: State = {
        "Type": "Map",
        "Label": sanitize(state_name, max_len=MAX_LABEL),
        "ItemReader": _item_reader(spec_workflow_literal(spec_key), node.id, run),
        "ItemBatcher": {"MaxItemsPerBatch": batch_size, "BatchInput": {"run.$": run.expr}},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": child_start,
            "States": child,
        },
        "ResultPath": None,
        "Next": gather,
    }
    # A worker runs one message at a time, and a queued message's heartbeat clock already runs:
    # more children than workers would only queue batches that could time out waiting.
    assert task.actor is not None  # noqa: S101 - only actor tasks reach here
    replicas = task.actor.replica_count
    map_state["MaxConcurrency"] = min(node.concurrency, replicas) if node.concurrency else replicas
    tolerated = tolerated_failure_percentage(node.min_success_ratio)
    if tolerated:
        map_state["ToleratedFailurePercentage"] = tolerated
    gather_state = invoke(protocol.Mode.MAP_GATHER, gather)
    gather_state.pop("Next")
    states = {
        prepare: invoke(protocol.Mode.MAP_PREPARE, ensure),
        ensure: _ensure(run, spec_key, node.id, state_name),
        state_name: map_state,
        gather: gather_state,
    }
    return prepare, states, gather
