"""``@task``: a typed function that runs as one node of a workflow."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from stratoflow import ir, routing
from stratoflow.define._interface import Interface, extract_interface
from stratoflow.define._location import caller_location, function_location
from stratoflow.define._resources import Resources, to_spec
from stratoflow.define._trace import Call, Promise, Trace, active_trace, bind_inputs
from stratoflow.errors import DefinitionError, Problem

__all__ = ["TaskDef", "outputs_for_call", "register", "resolve_task", "task"]

P = ParamSpec("P")
R = TypeVar("R")

# Functions by import path, so a local run finds tasks defined in scripts and test bodies.
_REGISTRY: dict[str, Callable[..., Any]] = {}


def register(ref: str, fn: Callable[..., Any]) -> None:
    _REGISTRY[ref] = fn


def resolve_task(ref: str) -> Callable[..., Any]:
    """The user function behind a task ref ('module:qualname'), importing it if needed."""
    fn = _REGISTRY.get(ref)
    if fn is None:
        from stratoflow.values import resolve_class  # noqa: PLC0415 - only off the fast path

        obj = resolve_class(ref)
        fn = getattr(obj, "fn", obj)
    return fn


def source_hash(fn: Callable[..., Any]) -> str:
    """sha256 of the function's source text (bytecode if the source is unavailable)."""
    try:
        text = inspect.getsource(fn).encode()
    except (OSError, TypeError):
        text = fn.__code__.co_code
    return hashlib.sha256(text).hexdigest()


def outputs_for_call(trace: Trace, node_id: str, what: str, interface: Interface) -> Any:
    """The promise(s) a recorded call returns, shaped like the function's return value."""
    promises = [
        Promise(trace, ir.PromiseBinding(node=node_id, output=v.name), v.type, f"output '{v.name}' of {what}")
        for v in interface.outputs
    ]
    if interface.output_style == "none":
        return None
    if interface.output_style == "single":
        return promises[0] if promises else None
    if interface.output_style == "namedtuple":
        return interface.output_class(*promises)
    return tuple(promises)


@dataclass(frozen=True, eq=False)
class TaskDef(Generic[P, R]):
    """A decorated task. Calling it runs the function, or, inside a workflow body, records a node."""

    fn: Callable[P, R]
    spec: ir.TaskSpec
    interface: Interface

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        trace = active_trace()
        if trace is None:
            return self.fn(*args, **kwargs)
        location = caller_location()
        node_id = trace.new_node_id(self.spec.name)
        what = f"task '{self.spec.name}'"
        bindings = bind_inputs(
            trace, target=what, interface=self.spec.inputs, args=args, kwargs=kwargs, location=location
        )
        trace.calls.append(
            Call(node_id=node_id, kind="task", target=self, inputs=bindings, location=location)
        )
        result: R = outputs_for_call(trace, node_id, f"node '{node_id}'", self.interface)
        return result

    def __repr__(self) -> str:
        return f"TaskDef({self.spec.ref})"


def _timeout_seconds(timeout: timedelta | float | None) -> int | None:
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if seconds <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return max(1, round(seconds))


def _build(
    fn: Callable[..., Any], options: dict[str, Any], decorated_at: ir.SourceLocation
) -> TaskDef[Any, Any]:
    name = options["name"] or fn.__name__
    what = f"task '{name}'"
    problems: list[Problem] = []

    def fail(message: str) -> None:
        problems.append(Problem(message, decorated_at.path, decorated_at.line, decorated_at.col))

    interface = extract_interface(fn, what, problems)
    requests = limits = ir.ResourcesSpec()
    try:
        requests = to_spec(options["requests"])
        limits = to_spec(options["limits"])
    except ValueError as exc:
        fail(f"{what}: {exc}")
    timeout = None
    try:
        timeout = _timeout_seconds(options["timeout"])
    except ValueError as exc:
        fail(f"{what}: {exc}")
    if options["retries"] < 0:
        fail(f"{what}: retries must be >= 0, got {options['retries']}")
    if options["compute"] not in ("auto", "lambda", "fargate"):
        fail(f"{what}: compute must be 'auto', 'lambda' or 'fargate', got {options['compute']!r}")
    else:
        try:
            routing.route(
                requests,
                interruptible=options["interruptible"],
                timeout_seconds=timeout,
                compute=options["compute"],
            )
        except routing.RoutingError as exc:
            fail(f"{what} requests resources no compute target can meet: {exc}")
    input_names = {v.name for v in interface.inputs}
    for ignored in options["cache_ignore_input_vars"]:
        if ignored not in input_names:
            fail(f"{what}: cache_ignore_input_vars names '{ignored}', which is not an input")
    if problems:
        raise DefinitionError(problems)
    code_hash = source_hash(fn)
    version = options["cache_version"] or f"src:{code_hash[:16]}"
    ref = f"{fn.__module__}:{fn.__qualname__}"
    spec = ir.TaskSpec(
        name=name,
        ref=ref,
        code_hash=code_hash,
        kind=options.get("kind", "task"),
        inputs=interface.inputs,
        outputs=interface.outputs,
        output_style=interface.output_style,
        requests=requests,
        limits=limits,
        interruptible=options["interruptible"],
        cache=ir.CachePolicy(
            enabled=options["cache"],
            version=version,
            serialize=options["cache_serialize"],
            ignore_inputs=tuple(options["cache_ignore_input_vars"]),
        ),
        retries=options["retries"],
        timeout_seconds=timeout,
        compute=options["compute"],
        location=function_location(fn),
    )
    register(ref, fn)
    return TaskDef(fn=fn, spec=spec, interface=interface)


@overload
def task(fn: Callable[P, R], /) -> TaskDef[P, R]: ...


@overload
def task(
    *,
    requests: Resources | None = None,
    limits: Resources | None = None,
    interruptible: bool = False,
    cache: bool = False,
    cache_version: str | None = None,
    cache_serialize: bool = False,
    cache_ignore_input_vars: tuple[str, ...] = (),
    retries: int = 0,
    timeout: timedelta | float | None = None,
    compute: Literal["auto", "lambda", "fargate"] = "auto",
    name: str | None = None,
) -> Callable[[Callable[P, R]], TaskDef[P, R]]: ...


def task(
    fn: Callable[P, R] | None = None,
    /,
    *,
    requests: Resources | None = None,
    limits: Resources | None = None,
    interruptible: bool = False,
    cache: bool = False,
    cache_version: str | None = None,
    cache_serialize: bool = False,
    cache_ignore_input_vars: tuple[str, ...] = (),
    retries: int = 0,
    timeout: timedelta | float | None = None,
    compute: Literal["auto", "lambda", "fargate"] = "auto",
    name: str | None = None,
) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
    """Declare a task: a typed function that runs as one node (on Lambda or Fargate on AWS).

    Example:
        >>> @task(retries=2, cache=True)
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> double(x=3)
        6
    """
    # Every parameter but ``fn`` is an option; the signature above is the single list of them.
    options = {key: value for key, value in locals().items() if key != "fn"}
    return declare(fn, options, kind="task")


def declare(
    fn: Callable[P, R] | None, options: dict[str, Any], *, kind: Literal["task", "dynamic"]
) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
    """What ``@task`` / ``@dynamic`` (bare or with options) return, for either kind."""
    options = {**options, "kind": kind}
    decorated_at = caller_location()
    if fn is not None:
        return _build(fn, options, decorated_at)

    def decorate(inner: Callable[P, R]) -> TaskDef[P, R]:
        return _build(inner, options, decorated_at)

    return decorate
