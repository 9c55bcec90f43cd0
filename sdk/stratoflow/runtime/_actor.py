"""One actor task attempt as plain JSON: what a warm worker runs, and what its dispatcher makes of it.

An actor worker (a local worker process, a Fargate container taking tasks from a queue) gets a
task's spec and its input literals as JSON, never a pickled value. :func:`run_attempt` runs one
attempt there with exactly the runner's semantics (cache first, the one error boundary, encode
and remember the outputs) and returns its outcome as JSON; a task's failure is data in that
outcome, not an exception. The side that dispatched the attempt turns the outcome back into
outputs or into the very ``TaskFailedError`` an in-process attempt raises (message, node,
attempt, error type, traceback text) with :func:`attempt_outputs`, so retries (``with_attempts``
around the dispatch) and error texts cannot tell an actor task from a plain one.

Example:
    >>> reply = run_attempt(task_context(task, blobs, cache), task, inputs, label="n0", attempt=1)  # doctest: +SKIP
    >>> outputs, hit = attempt_outputs(reply, label="n0")  # doctest: +SKIP
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable
from typing import TypedDict

from stratoflow import ir
from stratoflow.cache import CacheStore
from stratoflow.define import RunStorage
from stratoflow.errors import ExecutionError, TaskFailedError
from stratoflow.runtime._context import NodeContext
from stratoflow.runtime._outputs import InMemoryOutputStore
from stratoflow.runtime._runner import _serial_lock, run_task
from stratoflow.values import BlobStore, LiteralRef

__all__ = ["AttemptReply", "attempt_outputs", "dispatch_attempt", "run_attempt", "task_context"]


class AttemptReply(TypedDict, total=False):
    """One attempt's outcome as JSON: ``outputs`` (and ``cache_hit``), or an error.

    ``failed`` is ``"task"`` for a ``TaskFailedError`` (the user's code or its values: the task's
    retries judge it) and ``"runner"`` for anything else (a broken store: not retried, as in-process).
    """

    outputs: dict[str, dict[str, ir.JsonValue]]
    cache_hit: bool
    failed: str
    error: str
    error_type: str
    attempt: int
    traceback: str | None


def task_context(
    task: ir.TaskSpec,
    blobs: BlobStore,
    cache: CacheStore | None,
    *,
    use_cache: bool = True,
    run_id: str | None = None,
    storage: RunStorage | None = None,
    workflow: str = "",
) -> NodeContext:
    """A context that runs ``task`` alone: its spec is that one task and its output store is empty,
    so nothing of the dispatching run's state is needed (``run_task`` reads only the task, the
    blobs and the cache). ``run_id`` and ``storage`` are the dispatching run's, for the task's
    ``current_context()`` (its execution id and checkpoints); ``workflow`` is its workflow, whose
    run objects and cache entries the task's are (empty: the task's name, for a task run alone)."""
    spec = ir.WorkflowSpec(
        name=task.name,
        ref=task.ref,
        inputs=(),
        outputs=(),
        output_style="none",
        output_bindings={},
        nodes=(),
        tasks={task.name: task},
        location=task.location,
    )
    return NodeContext(
        run_id=run_id or uuid.uuid4().hex,
        spec=spec,
        blobs=blobs,
        outputs=InMemoryOutputStore({}),
        cache=cache,
        use_cache=use_cache,
        storage=storage,
        workflow=workflow,
    )


def run_attempt(
    ctx: NodeContext,
    task: ir.TaskSpec,
    inputs: dict[str, LiteralRef],
    *,
    label: str,
    attempt: int,
) -> AttemptReply:
    """Run attempt ``attempt`` of ``task`` on ``inputs`` (in a worker); never raises for a failure."""
    try:
        outputs, hit, _ = run_task(ctx, task, inputs, label=label, attempt=attempt)
    except TaskFailedError as exc:
        return AttemptReply(
            failed="task",
            error=str(exc),
            error_type=exc.error_type,
            attempt=exc.attempt,
            traceback=exc.traceback_text,
        )
    except Exception as exc:  # noqa: BLE001 - sent back as data: the dispatcher raises it
        return AttemptReply(
            failed="runner",
            error=f"{type(exc).__name__}: {exc}",
            error_type=type(exc).__name__,
            attempt=attempt,
            traceback="".join(traceback.format_exception(exc)),
        )
    return AttemptReply(outputs={name: lit.to_json() for name, lit in outputs.items()}, cache_hit=hit)


def attempt_outputs(reply: AttemptReply, *, label: str) -> tuple[dict[str, LiteralRef], bool]:
    """(outputs, cache hit) of a successful attempt; a failed one raises what the runner raised.

    The user's exception stayed in the worker, so a ``TaskFailedError`` carries its traceback as
    text and has no ``__cause__``; a runner failure is an ``ExecutionError`` (never retried).
    """
    if "failed" not in reply:
        outputs = {name: LiteralRef.from_json(lit) for name, lit in reply.get("outputs", {}).items()}
        return outputs, bool(reply.get("cache_hit", False))
    if reply["failed"] == "task":
        raise TaskFailedError(
            reply.get("error", ""),
            node=label,
            attempt=reply.get("attempt", 1),
            error_type=reply.get("error_type", "Exception"),
            traceback_text=reply.get("traceback"),
        )
    raise ExecutionError(f"node '{label}': its actor worker could not run it: {reply.get('error', '')}")


def dispatch_attempt(
    ctx: NodeContext,
    task: ir.TaskSpec,
    inputs: dict[str, LiteralRef],
    send: Callable[[], tuple[dict[str, LiteralRef], bool]],
) -> tuple[dict[str, LiteralRef], bool]:
    """One attempt from the dispatching side: ``run_task``'s cache steps around ``send`` (which has a
    worker run the attempt). A hit costs no worker at all (an idle environment stays idle), and
    ``cache_serialize`` makes one dispatcher compute a key while the others wait, as in-process.
    """
    cache = ctx.node_cache(task)
    key = cache.key(inputs)
    hit = cache.lookup(key)
    if hit is not None:
        return hit, True
    if key is None or not task.cache.serialize:
        return send()
    with _serial_lock(key):
        hit = cache.lookup(key)
        if hit is not None:
            return hit, True
        return send()
