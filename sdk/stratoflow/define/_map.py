"""``map_task``: fan a task out over lists."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar, cast, overload

from stratoflow import ir
from stratoflow.define._location import caller_location
from stratoflow.define._task import TaskDef
from stratoflow.define._trace import MapCall, MapOptions, Promise, active_trace, bind_inputs, constant_to_json
from stratoflow.errors import DefinitionError, Problem, TaskFailedError
from stratoflow.values import ValueTypeError

__all__ = ["MapTaskDef", "map_task"]

R = TypeVar("R")
# Covariant: a map whose items cannot fail (list[R]) is usable where one that may is expected.
Item_co = TypeVar("Item_co", covariant=True)


def _list_of(t: ir.TypeRef) -> ir.TypeRef:
    return ir.TypeRef.trusted(kind="list", args=(t,))


class MapTaskDef(Generic[Item_co]):
    """A task mapped over list inputs. Several mapped inputs zip; other inputs are broadcast.

    Calling it returns ``list[R]`` for a task returning ``R`` (``list[R | None]`` when items
    may fail). The mapped inputs are lists of the task's inputs, which no signature can
    spell, so arguments are checked when the workflow is traced rather than by type checkers.
    """

    def __init__(
        self,
        target: TaskDef[Any, Any],
        bound: dict[str, object],
        *,
        concurrency: int | None,
        min_success_ratio: float,
        batch_size: int | None,
        processes: bool = False,
    ) -> None:
        self.task = target
        self.bound = bound
        self.concurrency = concurrency
        self.min_success_ratio = float(min_success_ratio)  # the IR's type (1 is 1.0)
        self.batch_size = batch_size
        self.processes = bool(processes)
        item = target.spec.outputs[0].type if target.spec.outputs else ir.TypeRef.trusted(kind="none")
        if min_success_ratio < 1.0 and item.kind != "optional":
            item = ir.TypeRef.trusted(kind="optional", args=(item,))
        self.output = ir.Variable.trusted(name="o0", type=_list_of(item))

    def __call__(self, *args: object, **kwargs: object) -> list[Item_co]:
        trace = active_trace()
        if trace is None:
            return self._run_plain(kwargs)
        location = caller_location()
        spec = self.task.spec
        what = f"map_task({spec.name})"
        inputs = {**self.bound, **kwargs}
        mapped = tuple(
            v.name
            for v in spec.inputs
            if v.name in kwargs and v.name not in self.bound and _is_list_for(kwargs[v.name], v.type)
        )
        if not mapped:
            trace.problem(f"{what} needs at least one list input to map over", location)
        overrides = (
            {name: _list_of({v.name: v.type for v in spec.inputs}[name]) for name in mapped} if mapped else {}
        )
        bindings = bind_inputs(
            trace,
            target=what,
            interface=spec.inputs,
            args=args,
            kwargs=inputs,
            location=location,
            overrides=overrides,
        )
        node_id = trace.new_node_id(f"map_{spec.name}")
        trace.calls.append(
            MapCall(
                node_id=node_id,
                target=self.task,
                inputs=bindings,
                location=location,
                mapped=mapped,
                options=MapOptions(
                    concurrency=self.concurrency,
                    min_success_ratio=self.min_success_ratio,
                    batch_size=self.batch_size,
                    processes=self.processes,
                ),
            )
        )
        promise = Promise(
            trace, ir.PromiseBinding.trusted(node=node_id, output="o0"), self.output.type, f"output of {what}"
        )
        return cast(list[Item_co], promise)  # stands for the list while tracing

    def _run_plain(self, kwargs: dict[str, object]) -> list[Any]:
        """A call outside a workflow: the items in order, with the task's retries and the ratio.

        Retries are immediate (no backoff: this is a plain Python call, typically a unit test).
        With ``min_success_ratio`` below 1 a failed item becomes ``None`` and too many failures
        raise ``TaskFailedError`` (from the first item's exception), as in a workflow run; at 1
        the first failed item's exception propagates unchanged, as a loop would.
        """
        lists = {k: v for k, v in kwargs.items() if isinstance(v, list)}
        lengths = {len(v) for v in lists.values()}
        if len(lengths) > 1:
            raise ValueError(
                f"mapped inputs have different lengths: { {k: len(v) for k, v in lists.items()} }"
            )
        count = lengths.pop() if lengths else 0
        fixed = {**self.bound, **{k: v for k, v in kwargs.items() if k not in lists}}
        results: list[Any] = []
        failures: list[tuple[int, Exception]] = []
        for i in range(count):
            try:
                results.append(self._attempts(fixed, {k: v[i] for k, v in lists.items()}))
            except Exception as exc:
                if self.min_success_ratio >= 1:
                    raise
                failures.append((i, exc))
                results.append(None)
        if count and (count - len(failures)) / count < self.min_success_ratio:
            shown = "; ".join(f"[{i}] {type(e).__name__}: {e}" for i, e in failures[:3])
            raise TaskFailedError(
                f"map_task({self.task.name}): {len(failures)} of {count} items failed, more than "
                f"min_success_ratio={self.min_success_ratio:g} allows; first errors: {shown}",
                node=f"map_{self.task.name}",
                error_type=type(failures[0][1]).__name__,
            ) from failures[0][1]
        return results

    def _attempts(self, fixed: dict[str, object], item: dict[str, object]) -> Any:
        attempt = 0
        while True:
            try:
                return self.task.fn(**fixed, **item)
            except Exception:
                attempt += 1
                if attempt > self.task.spec.retries:
                    raise


def _is_list_for(value: object, item_type: ir.TypeRef) -> bool:
    """Whether ``value`` is a list of ``item_type`` items (so the input is mapped, not broadcast)."""
    if isinstance(value, Promise):
        return value.type.kind == "list" and (item_type.kind != "list" or value.type.args[0].kind == "list")
    if not isinstance(value, list):
        return False
    return item_type.kind != "list" or all(isinstance(item, list) for item in value)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_option_values(
    name: str,
    *,
    concurrency: int | None,
    min_success_ratio: float,
    batch_size: int | None,
    fail: Callable[[str], None],
) -> None:
    # Types too: the IR's map node is built from these as they are (``trusted``, not validated).
    if concurrency is not None and not _is_whole(concurrency):
        fail(f"map_task({name}): concurrency must be a whole number, got {concurrency!r}")
    elif concurrency is not None and not 1 <= concurrency <= 10_000:
        fail(f"map_task({name}): concurrency must be between 1 and 10000, got {concurrency}")
    if not _is_whole(min_success_ratio) and not isinstance(min_success_ratio, float):
        fail(f"map_task({name}): min_success_ratio must be a number, got {min_success_ratio!r}")
    elif not 0.0 <= min_success_ratio <= 1.0:
        fail(f"map_task({name}): min_success_ratio must be between 0 and 1, got {min_success_ratio}")
    if batch_size is not None and not _is_whole(batch_size):
        fail(f"map_task({name}): batch_size must be a whole number, got {batch_size!r}")
    elif batch_size is not None and batch_size < 1:
        fail(f"map_task({name}): batch_size must be >= 1, got {batch_size}")


def _check_map_options(
    target: TaskDef[Any, Any],
    bound: dict[str, object],
    *,
    concurrency: int | None,
    min_success_ratio: float,
    batch_size: int | None,
    fail: Callable[[str], None],
) -> None:
    if len(target.spec.outputs) > 1:
        fail(f"map_task({target.name}): a mapped task may have at most one output")
    if target.spec.kind == "dynamic":
        fail(f"map_task({target.name}): a @dynamic task cannot be mapped")
    _check_option_values(
        target.name,
        concurrency=concurrency,
        min_success_ratio=min_success_ratio,
        batch_size=batch_size,
        fail=fail,
    )
    for name, value in bound.items():
        variable = next((v for v in target.spec.inputs if v.name == name), None)
        if variable is None:
            fail(f"map_task({target.name}): partial binds unknown input '{name}'")
        elif not isinstance(value, Promise):
            try:
                constant_to_json(value, variable.type)
            except ValueTypeError as exc:
                fail(f"map_task({target.name}): bound input '{name}': {exc}")


@overload
def map_task(
    target: TaskDef[..., R] | functools.partial[R],
    *,
    concurrency: int | None = None,
    min_success_ratio: Literal[1] = 1,
    batch_size: int | None = None,
    processes: bool = False,
) -> MapTaskDef[R]: ...


@overload
def map_task(
    target: TaskDef[..., R] | functools.partial[R],
    *,
    concurrency: int | None = None,
    min_success_ratio: float,
    batch_size: int | None = None,
    processes: bool = False,
) -> MapTaskDef[R | None]: ...


def map_task(
    target: TaskDef[..., R] | functools.partial[R],
    *,
    concurrency: int | None = None,
    min_success_ratio: float = 1,
    batch_size: int | None = None,
    processes: bool = False,
) -> MapTaskDef[R] | MapTaskDef[R | None]:
    """Run a task once per item of its list input(s), in parallel (a Distributed Map on AWS).

    Args:
        target: The ``@task`` to map (or a ``functools.partial`` of one binding some inputs).
        concurrency: At most this many items run at once.
        min_success_ratio: Below 1, items may fail (they become ``None``, so the output is
            ``list[T | None]``, for type checkers too) as long as this fraction of them
            succeeds. Any float (even ``1.0``) types the result as ``list[T | None]``;
            leave it out, or pass the int ``1``, for ``list[T]``.
        batch_size: Items per child execution on AWS.
        processes: Run the items of a local run in worker processes instead of threads, for
            CPU-bound pure-Python tasks that threads cannot speed up (the GIL). On AWS every
            item runs in its own Lambda anyway, so this only changes local runs.

    Example:
        >>> scores = map_task(score, concurrency=50)(chunk=chunks)  # doctest: +SKIP
        >>> hashes = map_task(crunch, processes=True)(block=blocks)  # doctest: +SKIP
    """
    location = caller_location()
    bound: dict[str, object] = {}
    base: object = target
    if isinstance(target, functools.partial):
        bound = dict(target.keywords)
        base = target.func
    problems: list[Problem] = []

    def fail(message: str) -> None:
        problems.append(Problem(message, location.path, location.line, location.col))

    if not isinstance(base, TaskDef):
        fail(f"map_task needs a @task (or functools.partial of one), got {base!r}")
        raise DefinitionError(problems)
    _check_map_options(
        base,
        bound,
        concurrency=concurrency,
        min_success_ratio=min_success_ratio,
        batch_size=batch_size,
        fail=fail,
    )
    if problems:
        raise DefinitionError(problems)
    mapped: MapTaskDef[Any] = MapTaskDef(
        base,
        bound,
        concurrency=concurrency,
        min_success_ratio=min_success_ratio,
        batch_size=batch_size,
        processes=processes,
    )
    return mapped
