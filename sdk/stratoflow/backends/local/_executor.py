"""The local executor: runs a workflow's IR (never its body) on a thread pool.

Independent nodes run in parallel; a node starts when all its upstream nodes are done.
When a node fails, no new node starts, nodes already running finish, and the run fails
with an error naming the node and the task's exception (its traceback kept).
"""

from __future__ import annotations

import functools
import os
import queue
import sys
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratoflow import ir, values
from stratoflow.backends.local._attempts import with_retries
from stratoflow.backends.local._map import run_map_node
from stratoflow.cache import SqliteCacheStore, default_home
from stratoflow.runtime import (
    InMemoryOutputStore,
    NodeContext,
    encode_inputs,
    resolve_binding,
    run_node,
    validate_inputs,
)
from stratoflow.values import LiteralRef, LocalBlobStore

__all__ = ["LocalRun", "RunOptions", "run_local"]


@dataclass(frozen=True)
class RunOptions:
    """How a local run behaves."""

    max_workers: int | None = None
    use_cache: bool = True
    home: Path | None = None
    progress: bool | None = None  # None: show a progress bar only on a terminal
    retry_base_seconds: float = 1.0


@dataclass
class LocalRun:
    """The result of a local run."""

    run_id: str
    outputs: dict[str, Any]
    literals: dict[str, LiteralRef]
    cache_hits: set[str] = field(default_factory=set)
    executed: set[str] = field(default_factory=set)


def _report(done: queue.SimpleQueue[tuple[str, Future[None]]], node_id: str, future: Future[None]) -> None:
    done.put((node_id, future))


def _default_workers() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


class _Scheduler:
    def __init__(self, ctx: NodeContext, options: RunOptions, on_done: Callable[[str], None]) -> None:
        self.ctx = ctx
        self.options = options
        self.on_done = on_done
        self.workers = options.max_workers or _default_workers()
        self.run = LocalRun(run_id=ctx.run_id, outputs={}, literals={})

    def _execute(self, node: ir.TaskNode | ir.MapNode) -> None:
        if isinstance(node, ir.MapNode):
            _, _ = run_map_node(
                self.ctx, node, max_workers=self.workers, retry_base_seconds=self.options.retry_base_seconds
            )
            self.run.executed.add(node.id)
            return
        task = self.ctx.spec.tasks[node.task]
        result = with_retries(
            self.ctx,
            lambda c, attempt: run_node(c, node.id, attempt=attempt),
            retries=task.retries,
            timeout=task.timeout_seconds,
            label=node.id,
            base_seconds=self.options.retry_base_seconds,
        )
        (self.run.cache_hits if result.cache_hit else self.run.executed).add(node.id)

    def execute_all(self) -> None:
        nodes = {n.id: n for n in self.ctx.spec.nodes}
        waiting = {n.id: len(n.upstream()) for n in self.ctx.spec.nodes}
        dependents: dict[str, list[str]] = {n: [] for n in nodes}
        for node in self.ctx.spec.nodes:
            for up in node.upstream():
                dependents[up].append(node.id)
        done: queue.SimpleQueue[tuple[str, Future[None]]] = queue.SimpleQueue()
        running = 0
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="stratoflow") as pool:

            def submit(node_id: str) -> None:
                nonlocal running
                running += 1
                future = pool.submit(self._execute, nodes[node_id])
                future.add_done_callback(functools.partial(_report, done, node_id))

            for node_id, count in waiting.items():
                if count == 0:
                    submit(node_id)
            while running:
                node_id, future = done.get()
                running -= 1
                error = future.exception()
                if error is not None:
                    failure = failure or error
                    continue  # start nothing new; let running siblings finish
                self.on_done(node_id)
                if failure is None:
                    for child in dependents[node_id]:
                        waiting[child] -= 1
                        if waiting[child] == 0:
                            submit(child)
        if failure is not None:
            raise failure


def _progress(
    spec: ir.WorkflowSpec, enabled: bool | None
) -> tuple[Callable[[str], None], Callable[[], None]]:
    if not (sys.stderr.isatty() if enabled is None else enabled) or not spec.nodes:
        return (lambda _node: None), (lambda: None)
    from rich.progress import Progress  # noqa: PLC0415 - rich is only paid for on a terminal

    bar = Progress(transient=True)
    bar.start()
    task_id = bar.add_task(f"{spec.name}", total=len(spec.nodes))
    return (lambda _node: bar.advance(task_id)), bar.stop


def run_local(
    spec: ir.WorkflowSpec, inputs: Mapping[str, Any], options: RunOptions | None = None
) -> LocalRun:
    """Run a workflow's IR on this machine and return its outputs as Python values.

    Inputs are validated against the interface before anything runs (InputError names
    the input). Failures raise TaskFailedError naming the node, ``from`` the user's exception.

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
        run_id=uuid.uuid4().hex,
        spec=spec,
        blobs=blobs,
        outputs=InMemoryOutputStore(literals),
        cache=SqliteCacheStore(home / "cache.sqlite") if options.use_cache else None,
        use_cache=options.use_cache,
    )
    advance, stop = _progress(spec, options.progress)
    scheduler = _Scheduler(ctx, options, advance)
    try:
        scheduler.execute_all()
    finally:
        stop()
    run = scheduler.run
    for variable in spec.outputs:
        literal = resolve_binding(ctx, spec.output_bindings[variable.name], variable.type)
        run.literals[variable.name] = literal
        run.outputs[variable.name] = values.decode(literal, variable.type, blobs)
    return run
