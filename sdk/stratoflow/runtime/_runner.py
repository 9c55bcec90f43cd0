"""The task runner: execute one node anywhere (local threads, Lambda, a Fargate container).

resolve input references -> cache key -> cache lookup -> import and call the user
function -> encode and store outputs -> write the cache. Only successful runs are
cached, and a cache entry whose blobs are gone is a miss, never a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

from stratoflow import ir, values
from stratoflow.define import SecretsManager, execution_scope, resolve_task
from stratoflow.errors import IntegrityError, TaskFailedError
from stratoflow.runtime._boundary import call_task, redact_failure
from stratoflow.runtime._context import NodeCache, NodeContext
from stratoflow.runtime._recovery import recovered_outputs
from stratoflow.values import BlobStore, LiteralRef

__all__ = [
    "NodeContext",
    "NodeResult",
    "encode_outputs",
    "literal_from_constant",
    "lookup_node_cache",
    "node_inputs",
    "resolve_binding",
    "run_node",
    "run_task",
    "workflow_outputs",
]


class NodeResult(NamedTuple):
    """What happened when a node ran."""

    node: str
    cache_hit: bool
    cache_key: str | None
    outputs: dict[str, LiteralRef]
    called: bool


def literal_from_constant(value: ir.JsonValue, t: ir.TypeRef, blobs: BlobStore) -> LiteralRef:
    """A literal for a constant from the IR (workflow body constants and defaults)."""
    if t.kind in ("file", "directory") or (
        t.kind == "optional" and value is not None and t.args[0].kind in ("file", "directory")
    ):
        return values.encode(values.coerce_input(value, t), t, blobs)
    data = values.canonical_json(value)
    return LiteralRef(hash=values.sha256_hex(data), value=value)


def resolve_binding(ctx: NodeContext, binding: ir.Binding, t: ir.TypeRef) -> LiteralRef:
    """The literal a binding refers to."""
    if isinstance(binding, ir.PromiseBinding):
        return ctx.outputs.read_outputs(binding.node)[binding.output]
    if isinstance(binding, ir.InputBinding):
        return ctx.outputs.read_inputs()[binding.name]
    if isinstance(binding, ir.LiteralBinding):
        return literal_from_constant(binding.value, t, ctx.blobs)
    if isinstance(binding, ir.ElementBinding):
        return _element(ctx, binding)
    if isinstance(binding, ir.DictBinding):
        key_type, value_type = t.args
        entries = {
            values.key_from_text(key, key_type): values.decode(
                resolve_binding(ctx, entry, value_type), value_type, ctx.blobs
            )
            for key, entry in binding.entries.items()
        }
        return values.encode(entries, t, ctx.blobs)
    item_type = t.args[0]
    items = [
        values.decode(resolve_binding(ctx, item, item_type), item_type, ctx.blobs) for item in binding.items
    ]
    return values.encode(items, t, ctx.blobs)


class MissingElementError(TaskFailedError):
    """An indexed promise (``out[3]``, ``out["k"]``) whose container has no such item at run time.

    A TaskFailedError, so every path that resolves bindings (conditions too) fails the node
    the usual way; node inputs and workflow outputs re-raise it naming what read the item.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, node="", error_type="MissingElementError")


def _element(ctx: NodeContext, binding: ir.ElementBinding) -> LiteralRef:
    """Item ``binding.key`` of the container (an index, a dict key, a field), as its item type."""
    container_type = binding.type
    container = values.decode(resolve_binding(ctx, binding.of, container_type), container_type, ctx.blobs)
    key: object = binding.key
    try:
        if container_type.kind in ("dataclass", "pydantic"):
            item = getattr(container, str(key))
        else:
            if container_type.kind == "dict":
                key = values.key_from_text(str(key), container_type.args[0])
            item = container[key]
    except (IndexError, KeyError, TypeError, AttributeError) as exc:
        size = f"{len(container)} items" if isinstance(container, list) else "no such item"
        raise MissingElementError(f"no item {key!r} in the {container_type.render()} ({size})") from exc
    return values.encode(item, binding.item_type, ctx.blobs)


def workflow_outputs(ctx: NodeContext) -> dict[str, LiteralRef]:
    """The finished workflow's outputs, read through its output bindings."""
    spec = ctx.spec
    resolved: dict[str, LiteralRef] = {}
    for v in spec.outputs:
        try:
            resolved[v.name] = resolve_binding(ctx, spec.output_bindings[v.name], v.type)
        except MissingElementError as exc:
            raise TaskFailedError(
                f"workflow '{spec.name}' output '{v.name}': {exc}", node="", error_type="MissingElementError"
            ) from exc
    return resolved


def node_inputs(ctx: NodeContext, node: ir.TaskNode | ir.MapNode, task: ir.TaskSpec) -> dict[str, LiteralRef]:
    """Resolve every input of a node (defaults included)."""
    resolved: dict[str, LiteralRef] = {}
    mapped = set(node.mapped) if isinstance(node, ir.MapNode) else set()
    for variable in task.inputs:
        t = (
            ir.TypeRef.trusted(kind="list", args=(variable.type,))
            if variable.name in mapped
            else variable.type
        )
        binding = node.inputs.get(variable.name)
        try:
            if binding is not None:
                resolved[variable.name] = resolve_binding(ctx, binding, t)
            elif variable.has_default:
                resolved[variable.name] = literal_from_constant(variable.default, t, ctx.blobs)
        except IntegrityError as exc:
            raise _bad_input(exc, node.id, variable.name) from exc
        except MissingElementError as exc:
            raise TaskFailedError(
                f"node '{node.id}' input '{variable.name}': {exc}",
                node=node.id,
                error_type="MissingElementError",
            ) from exc
    return resolved


def _bad_input(exc: IntegrityError, node: str, name: str) -> TaskFailedError:
    # A real input's bytes are wrong: fail the node (never run it on wrong bytes), naming the input.
    return TaskFailedError(f"node '{node}' input '{name}': {exc}", node=node, error_type="IntegrityError")


def encode_outputs(
    task: ir.TaskSpec, result: object, blobs: BlobStore, *, node: str
) -> dict[str, LiteralRef]:
    """Encode a task's return value into one literal per declared output."""
    if task.output_style == "none":
        return {}
    returned: tuple[object, ...]
    if task.output_style == "single":
        returned = (result,)
    elif task.output_style == "namedtuple" and len(task.outputs) == 1:
        # Flyte's rule for a one-field NamedTuple: a tuple gives its item, anything else is the value.
        returned = (result[0] if isinstance(result, tuple) and len(result) == 1 else result,)
    elif isinstance(result, tuple) and len(result) == len(task.outputs):
        returned = tuple(result)
    else:
        raise TaskFailedError(
            f"task '{task.name}' in node '{node}' must return {len(task.outputs)} values, got {result!r:.80}",
            node=node,
            error_type="TypeError",
        )
    encoded: dict[str, LiteralRef] = {}
    for variable, value in zip(task.outputs, returned, strict=True):
        try:
            encoded[variable.name] = values.encode(value, variable.type, blobs)
        except values.ValueTypeError as exc:
            raise TaskFailedError(
                f"task '{task.name}' in node '{node}' returned a bad value for output "
                f"'{variable.name}': {exc}",
                node=node,
                error_type="TypeError",
            ) from exc
    return encoded


def _decode_inputs(
    task: ir.TaskSpec, inputs: Mapping[str, LiteralRef], blobs: BlobStore, *, label: str | None = None
) -> dict[str, Any]:
    types = {v.name: v.type for v in task.inputs}
    decoded: dict[str, Any] = {}
    for name, lit in inputs.items():
        try:
            decoded[name] = values.decode(lit, types[name], blobs)
        except IntegrityError as exc:
            raise _bad_input(exc, label or task.name, name) from exc
    return decoded


def run_task(
    ctx: NodeContext,
    task: ir.TaskSpec,
    inputs: dict[str, LiteralRef],
    *,
    label: str,
    attempt: int = 1,
) -> tuple[dict[str, LiteralRef], bool, str | None]:
    """Run ``task`` on resolved inputs (cache first). Returns (outputs, cache_hit, key)."""
    cache = ctx.node_cache(task)
    key = cache.key(inputs)
    if key is None:
        return _compute(ctx, task, inputs, cache, None, label=label, attempt=attempt), False, None
    hit = cache.lookup(key)
    if hit is not None:
        return hit, True, key
    if not task.cache.serialize:
        return _compute(ctx, task, inputs, cache, key, label=label, attempt=attempt), False, key
    # cache_serialize: one caller computes a key while the others wait, then hit the cache.
    # (In-process here; across processes the first writer still wins the conditional put.)
    with _serial_lock(key):
        hit = cache.lookup(key)
        if hit is not None:
            return hit, True, key
        return _compute(ctx, task, inputs, cache, key, label=label, attempt=attempt), False, key


_SERIAL_LOCKS: dict[str, threading.Lock] = {}
_SERIAL_GUARD = threading.Lock()


def _reset_serial_locks_after_fork() -> None:
    # A forked map worker must not inherit a lock some parent thread held at fork time.
    global _SERIAL_GUARD  # noqa: PLW0603 - module state rebuilt once per forked child
    _SERIAL_LOCKS.clear()
    _SERIAL_GUARD = threading.Lock()


os.register_at_fork(after_in_child=_reset_serial_locks_after_fork)


def _serial_lock(key: str) -> threading.Lock:
    with _SERIAL_GUARD:
        return _SERIAL_LOCKS.setdefault(key, threading.Lock())


class _AttemptScope:
    """:func:`attempt_scope`'s block (a class: entered once per attempt, a map's every item)."""

    __slots__ = ("_execution", "_secrets")

    def __init__(self, execution: AbstractContextManager[None], secrets: SecretsManager) -> None:
        self._execution = execution
        self._secrets = secrets

    def __enter__(self) -> None:
        self._execution.__enter__()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, TaskFailedError):  # masked before anything outside the attempt sees it
            redact_failure(exc, self._secrets)
        self._execution.__exit__(exc_type, exc, tb)  # type: ignore[arg-type]


def attempt_scope(
    ctx: NodeContext, task: ir.TaskSpec, *, node: str, attempt: int
) -> AbstractContextManager[None]:
    """While user code of one attempt of ``task`` runs: its ``current_context()`` (working
    directory, decks, checkpoint) and its requested secrets, masked in what it logs and raises."""
    secrets = ctx.secrets(task)
    execution = execution_scope(
        workflow=ctx.workflow,
        run_id=ctx.run_id,
        node=node,
        attempt=attempt,
        storage=ctx.storage,
        enable_deck=task.enable_deck,
        secrets=secrets,
    )
    return _AttemptScope(execution, secrets)


def _compute(
    ctx: NodeContext,
    task: ir.TaskSpec,
    inputs: dict[str, LiteralRef],
    cache: NodeCache,
    key: str | None,
    *,
    label: str,
    attempt: int,
) -> dict[str, LiteralRef]:
    kwargs = _decode_inputs(task, inputs, ctx.blobs, label=label)
    # The scope (current_context(), its working directory) lasts until the outputs are stored:
    # a returned file may live in the working directory, as in flytekit.
    with attempt_scope(ctx, task, node=label, attempt=attempt):
        result = call_task(resolve_task, task, kwargs, node=label, attempt=attempt)
        if ctx.cancelled.is_set():
            raise TaskFailedError(
                f"node '{label}' was abandoned", node=label, attempt=attempt, error_type="Abandoned"
            )
        outputs = encode_outputs(task, result, ctx.blobs, node=label)
    cache.remember(key, outputs)  # only successful results, never an abandoned attempt's
    return outputs


def lookup_node_cache(ctx: NodeContext, node_id: str) -> bool:
    """Whether a node's result is cached (with its blobs present); on a hit, store its outputs.

    Used before a Fargate node: a hit skips starting a container at all. In a recovered run, a node
    that finished in the failed run is a hit too.
    """
    node = ctx.spec.node(node_id)
    recovered = recovered_outputs(ctx.recovery, node_id)
    if recovered is not None:  # a recovered run: what the failed run computed, no container
        ctx.outputs.write_outputs(node_id, recovered)
        return True
    cache = ctx.node_cache(ctx.spec.tasks[node.task])
    if not cache.enabled or isinstance(node, ir.MapNode):
        return False
    outputs = cache.lookup(cache.key(node_inputs(ctx, node, cache.task)))
    if outputs is None:
        return False
    ctx.outputs.write_outputs(node_id, outputs)
    return True


def run_node(ctx: NodeContext, node_id: str, *, attempt: int = 1) -> NodeResult:
    """Run one task node of ``ctx.spec`` and store its outputs."""
    node = ctx.spec.node(node_id)
    if not isinstance(node, ir.TaskNode):
        raise TypeError(f"run_node runs task nodes; '{node_id}' is a {node.kind} node")
    recovered = recovered_outputs(ctx.recovery, node_id)
    if recovered is not None:  # a recovered run reuses what the failed run computed
        ctx.outputs.write_outputs(node_id, recovered)
        return NodeResult(node=node_id, cache_hit=True, cache_key=None, outputs=recovered, called=False)
    task = ctx.spec.tasks[node.task]
    inputs = node_inputs(ctx, node, task)
    outputs, hit, key = run_task(ctx, task, inputs, label=node_id, attempt=attempt)
    if not ctx.cancelled.is_set():
        ctx.outputs.write_outputs(node_id, outputs)
    return NodeResult(node=node_id, cache_hit=hit, cache_key=key, outputs=outputs, called=not hit)
