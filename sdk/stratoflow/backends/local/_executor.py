"""The local executor: runs a workflow's IR (never its body), independent nodes on threads (``_spread``).

Independent nodes run in parallel; a node starts when all its upstream nodes are done.
When a node fails, no new node starts (with FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, only nodes
that do not depend on it), nodes already running finish, the ``on_failure`` task runs, and the
run fails with an error naming the node and the task's exception (its traceback kept).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stratoflow import define, ir, values
from stratoflow.accelerators import warn_if_no_gpu
from stratoflow.backends.local._map import run_map_node
from stratoflow.backends.local._node_logs import start_capture, stop_capture
from stratoflow.backends.local._progress import RunProgress, start_progress
from stratoflow.backends.local._records import NodeRecorder, error_fields
from stratoflow.backends.local._run_types import LocalRun, RunActors, RunOptions
from stratoflow.backends.local._spread import run_in_order
from stratoflow.cache import default_home, local_cache
from stratoflow.ir import _node_status
from stratoflow.runtime import (
    InMemoryOutputStore,
    LocalRunStorage,
    NodeContext,
    Recovery,
    encode_inputs,
    record_failure,
    recovered_outputs,
    run_node,
    validate_inputs,
    with_retries,
    workflow_outputs,
)
from stratoflow.values import LocalBlobStore

__all__ = ["LocalRun", "RunOptions", "run_local"]


def _default_workers() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


class _Tries:
    """What a node's record needs from its attempts: how many were made, its cache key."""

    __slots__ = ("key", "made")

    def __init__(self) -> None:
        self.made = 0
        self.key: str | None = None

    def attempt(self, attempt: int) -> int:
        self.made = max(self.made, attempt)
        return attempt


def _target(ctx: NodeContext, node: ir.Node) -> _node_status.Target:
    if not isinstance(node, ir.TaskNode):
        return "none"  # a gate, a branch, a map's parent: its items have their own targets
    return "actor" if ctx.spec.tasks[node.task].actor is not None else "local-thread"


class _Scheduler:
    def __init__(
        self,
        ctx: NodeContext,
        options: RunOptions,
        home: Path,
        progress: RunProgress,
        actors: RunActors,
        *,
        records: NodeRecorder | None = None,
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.home = home
        self.progress = progress
        self.actors = actors  # the run's: nested (conditional, dynamic) schedulers share its workers
        self.records = records  # None: a run nobody records (``run_local`` called directly)
        self.workers = options.max_workers or _default_workers()
        self.run = LocalRun(run_id=ctx.run_id, outputs={}, literals={})

    def _execute(self, node: ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode) -> None:
        recovered = recovered_outputs(self.ctx.recovery, node.id)
        if recovered is not None:  # finished in the run this one recovers: reuse, whatever its kind
            self.ctx.outputs.write_outputs(node.id, recovered)
            self.run.recovered.add(node.id)
            if self.records is not None:  # no user code ran: nowhere and no log, as a cache hit
                self.records.outputs(self.ctx.run_id, node.id, recovered)
                self.records.node(
                    self.ctx.run_id, node.id, ir.NodeStatus.SUCCEEDED, target="none", logs=None, attempts=0
                )
            return
        tries = _Tries()
        records = self.records
        if records is None:
            self._run(node, tries)
            return
        run_id, target, started = self.ctx.run_id, _target(self.ctx, node), time.time()
        logs = records.logs(run_id, node.id) if target != "none" else None
        ran = {"started": started, "target": target, "logs": logs}
        records.node(run_id, node.id, ir.NodeStatus.RUNNING, **ran)
        try:
            hit = self._run(node, tries)
        except BaseException as exc:
            error, traceback = error_fields(exc)
            failed = {"error": error, "traceback": traceback, "attempts": tries.made, "cache_key": tries.key}
            records.node(run_id, node.id, ir.NodeStatus.FAILED, finished=time.time(), **failed, **ran)
            raise
        status = ir.NodeStatus.CACHED if hit else ir.NodeStatus.SUCCEEDED
        if hit:  # served from the cache: no user code ran, so nowhere and no log
            ran.update(target="none", logs=None)
        done = {"attempts": 0 if hit else tries.made, "cache_key": tries.key, "cache_hit": hit}
        with contextlib.suppress(KeyError):  # a node with nothing to store (a gate)
            records.outputs(run_id, node.id, self.ctx.outputs.read_outputs(node.id))
        records.node(run_id, node.id, status, finished=time.time(), deck=self._deck(node, hit), **done, **ran)

    def _deck(self, node: ir.Node, hit: bool) -> str | None:
        """Where the node's deck page is (a task with ``enable_deck`` that ran), else ``None``."""
        storage = self.ctx.storage
        if hit or storage is None or not isinstance(node, ir.TaskNode):
            return None
        if not self.ctx.spec.tasks[node.task].enable_deck:
            return None
        return define.deck_location(storage, self.ctx.workflow, self.ctx.run_id, node.id)

    def _record_skipped(self, nodes: set[str]) -> None:
        if self.records is not None:
            for node_id in sorted(nodes):
                self.records.node(self.ctx.run_id, node_id, ir.NodeStatus.SKIPPED)

    def _run(self, node: ir.TaskNode | ir.MapNode | ir.BranchNode | ir.GateNode, tries: _Tries) -> bool:
        """Run one node; whether it was a cache hit."""
        if isinstance(node, ir.GateNode):  # a real sleep, or wait (polling) for the run's signal
            if node.gate == "sleep":
                time.sleep(node.seconds)
            else:
                from stratoflow.runtime import wait_local_signal  # noqa: PLC0415 - gate runs only

                wait_local_signal(self.home, self.ctx, node)
            self.run.executed.add(node.id)
            return False
        if isinstance(node, ir.BranchNode):  # decide, run the taken case's nodes, take its outputs
            from stratoflow.runtime import decide_branch, finish_branch, skipped_nodes  # noqa: PLC0415

            case = decide_branch(self.ctx, node.id)
            skipped = skipped_nodes(node, case)
            self.run.skipped.update(skipped)
            self._record_skipped(set(skipped))
            self._run_nodes(node.cases[case].nodes)
            finish_branch(self.ctx, node.id, case)
            self.run.executed.add(node.id)
            return False
        spec = self.ctx.spec.tasks[node.task]
        warn_if_no_gpu(spec.name, spec.requests.gpu)  # a GPU task runs anyway, on the CPU
        if isinstance(node, ir.MapNode):
            records, run_id = self.records, self.ctx.run_id
            _, _ = run_map_node(
                self.ctx,
                node,
                max_workers=self.workers,
                retry_base_seconds=self.options.retry_base_seconds,
                home=self.home,
                progress=self.progress,
                actors=self.actors.pool() if self.ctx.spec.tasks[node.task].actor is not None else None,
                record=None if records is None else functools.partial(records.items, run_id, node.id),
            )
            self.run.executed.add(node.id)
            return False
        task = self.ctx.spec.tasks[node.task]
        if task.kind == "dynamic":  # trace the body, run its sub-workflow on a nested scheduler
            from stratoflow.backends.local._dynamic import run_dynamic_node  # noqa: PLC0415

            hit = with_retries(
                self.ctx,
                lambda c, attempt: run_dynamic_node(c, node, self._run_sub, attempt=tries.attempt(attempt)),
                retries=task.retries,
                timeout=task.timeout_seconds,
                label=node.id,
                base_seconds=self.options.retry_base_seconds,
            )
        elif task.actor is not None:  # on a worker of its environment (same cache, retries, timeout)
            from stratoflow.backends.local._actors import run_actor_node  # noqa: PLC0415 - actor runs only

            hit = run_actor_node(
                self.ctx,
                node,
                self.actors.pool(),
                retry_base_seconds=self.options.retry_base_seconds,
                on_attempt=tries.attempt,
            )
        else:
            result = with_retries(
                self.ctx,
                lambda c, attempt: run_node(c, node.id, attempt=tries.attempt(attempt)),
                retries=task.retries,
                timeout=task.timeout_seconds,
                label=node.id,
                base_seconds=self.options.retry_base_seconds,
            )
            hit, tries.key = result.cache_hit, result.cache_key
        (self.run.cache_hits if hit else self.run.executed).add(node.id)
        return hit

    def _run_sub(self, sub: NodeContext) -> None:
        self._nested(sub, sub.spec.nodes)

    def _run_nodes(self, nodes: tuple[ir.Node, ...]) -> None:
        self._nested(self.ctx, nodes)

    def _nested(self, ctx: NodeContext, nodes: tuple[ir.Node, ...]) -> None:
        # A conditional's case or a @dynamic's sub-workflow: plain runs never load these modules.
        from stratoflow.backends.local._dynamic import SubProgress  # noqa: PLC0415

        nested = _Scheduler(
            ctx, self.options, self.home, SubProgress(self.progress), self.actors, records=self.records
        )
        try:
            nested.execute_all(nodes)
        finally:
            self.run.executed |= nested.run.executed
            self.run.cache_hits |= nested.run.cache_hits
            self.run.skipped |= nested.run.skipped
            self.run.recovered |= nested.run.recovered

    def execute_all(self, scope: tuple[ir.Node, ...] | None = None) -> None:
        """Run ``scope`` (default: the spec's nodes); a conditional's case reads outer nodes already done."""
        listed = self.ctx.spec.nodes if scope is None else scope
        nodes = {n.id: n for n in listed}
        upstream = {n.id: [up for up in n.upstream() if up in nodes] for n in listed}
        started, failure = run_in_order(
            upstream,
            lambda node_id: self._execute(nodes[node_id]),
            workers=self.workers,
            keep_going=self.ctx.spec.failure_policy == "fail_after_executable_nodes_complete",
            on_done=self.progress.node_done,
        )
        if failure is not None:
            self._record_skipped(set(nodes) - started)  # never reached: the run stopped before them
            raise failure


def _run_failure_handler(scheduler: _Scheduler, error: Exception) -> None:
    """Flyte's failure node: the ``on_failure`` task (the workflow's inputs, maybe the error) once the run failed."""
    handler = scheduler.ctx.spec.on_failure
    if handler is None:
        return
    try:
        record_failure(scheduler.ctx, message=str(error), node=getattr(error, "node", ""))
        scheduler.execute_all((handler,))
    except Exception as exc:  # noqa: BLE001 - a failing handler must not hide the run's own error
        import logging  # noqa: PLC0415 - a plain run never logs: not loaded for it

        logging.getLogger(__name__).warning(
            "on_failure task of workflow '%s' failed: %s", scheduler.ctx.spec.name, exc
        )


def run_local(
    spec: ir.WorkflowSpec,
    inputs: Mapping[str, Any],
    options: RunOptions | None = None,
    *,
    run_id: str | None = None,
    records: NodeRecorder | None = None,
    recovery: Recovery | None = None,
) -> LocalRun:
    """Run a workflow's IR on this machine and return its outputs as Python values.

    Inputs are validated against the interface before anything runs (InputError names
    the input). With ``records``, every node and map item is recorded there and what a
    task prints or logs is kept in its node's log file too (``run_recorded`` does both).
    Failures raise TaskFailedError naming the node, ``from`` the user's exception;
    a failed run leaves a snapshot in the home (its spec, inputs, finished nodes and map items)
    that ``recover_local`` reuses. ``recovery``: what this run reuses instead of running it.

    Example:
        >>> run_local(lower(pipeline), {"parts": 4}).outputs  # doctest: +SKIP
        {'o0': 0.93}
    """
    options = options or RunOptions()
    coerced = validate_inputs(spec, inputs)
    home = options.home or default_home()
    blobs = LocalBlobStore(home)
    literals = encode_inputs(spec, coerced, blobs)
    ctx = NodeContext(
        run_id=run_id or uuid.uuid4().hex,
        spec=spec,
        blobs=blobs,
        outputs=InMemoryOutputStore(literals),
        cache=local_cache(home, use_cache=options.use_cache, overwrite=options.overwrite_cache),
        use_cache=options.use_cache,
        storage=LocalRunStorage(home),
        recovery=recovery,
    )
    progress = start_progress(spec, options.progress, options.progress_console)
    actors = RunActors(
        home, use_cache=ctx.use_cache and ctx.cache is not None, overwrite_cache=options.overwrite_cache
    )
    scheduler = _Scheduler(ctx, options, home, progress, actors, records=records)
    if records is not None:  # after the progress bars: the tee wraps rich's redirection, not under it
        start_capture(ctx.run_id, home)
    try:
        try:
            scheduler.execute_all()
        except Exception as exc:
            from stratoflow.backends.local._recover import save_snapshot  # noqa: PLC0415 - failed runs only

            save_snapshot(ctx, literals)
            _run_failure_handler(scheduler, exc)
            raise  # the run fails with its own error, whatever the handler did
    finally:
        if records is not None:
            stop_capture(ctx.run_id)
        actors.close()
        progress.stop()
    run = scheduler.run
    run.actors = actors.stats()
    run.literals.update(workflow_outputs(ctx))
    for variable in spec.outputs:
        run.outputs[variable.name] = values.decode(run.literals[variable.name], variable.type, blobs)
    # Output files keep their names, in a folder of this run, not as blob digests.
    values.materialise_files(run.outputs, home / "outputs" / run.run_id)
    return run
