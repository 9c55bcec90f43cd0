"""``@task``: a typed function that runs as one node of a workflow."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, ParamSpec, TypeVar, Unpack, cast, overload

from stratoflow import ir
from stratoflow.define._code_hash import code_hash as task_code_hash
from stratoflow.define._interface import Interface, extract_interface
from stratoflow.define._location import caller_location, display_path, function_location
from stratoflow.define._options import OptionsError, TaskKwargs, TaskOptions
from stratoflow.define._trace import Promise, TaskCall, Trace, active_trace, bind_inputs
from stratoflow.errors import DefinitionError, IntegrityError, Problem

__all__ = ["TaskDef", "outputs_for_call", "register", "resolve_task", "spec_for_options", "task"]

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
        # A module's tasks register as it loads: a ShellTask is known by its name, not a variable's.
        with contextlib.suppress(ImportError):  # then reported as before, by resolve_class
            importlib.import_module(ref.partition(":")[0])
        fn = _REGISTRY.get(ref)
    if fn is None:
        from stratoflow.values import resolve_class  # noqa: PLC0415 - only off the fast path

        obj = resolve_class(ref)
        # Only a decorated task runs: a spec naming any other callable (``subprocess:getoutput``)
        # must not make the runner call it.
        if not isinstance(obj, TaskDef):
            raise IntegrityError(f"task ref {ref!r} does not name a stratoflow task: refused", uri=ref)
        fn = obj.fn
    return fn


def outputs_for_call(trace: Trace, node_id: str, what: str, interface: Interface) -> Any:
    """The promise(s) a recorded call returns, shaped like the function's return value.

    A call without outputs returns a VoidPromise, so ``a >> b`` can still order it.
    """
    if interface.output_style == "none":
        from stratoflow.define._nodes import VoidPromise  # noqa: PLC0415 - _nodes imports _trace

        return VoidPromise(trace, node_id)
    promises = [
        Promise(
            trace,
            ir.PromiseBinding.trusted(node=node_id, output=v.name),
            v.type,
            f"output '{v.name}' of {what}",
        )
        for v in interface.outputs
    ]
    return interface.shape(promises)


@dataclass(frozen=True, eq=False)
class TaskDef(Generic[P, R]):
    """A decorated task. Calling it runs the function, or, inside a workflow body, records a node."""

    fn: Callable[P, R]
    spec: ir.TaskSpec
    interface: Interface
    options: TaskOptions

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
        trace.calls.append(TaskCall(node_id=node_id, target=self, inputs=bindings, location=location))
        result: R = outputs_for_call(trace, node_id, f"node '{node_id}'", self.interface)
        return result

    def __repr__(self) -> str:
        return f"TaskDef({self.spec.ref})"


def _cache_policy(options: TaskOptions, code_hash: str) -> ir.CachePolicy:
    ignore_inputs: tuple[object, ...] = tuple(options.cache_ignore_input_vars)
    fields: dict[str, object] = {
        "enabled": options.cache,
        "version": options.cache_version or f"src:{code_hash[:16]}",
        "serialize": options.cache_serialize,
        "ignore_inputs": ignore_inputs,
    }
    well_typed = (
        isinstance(fields["enabled"], bool)
        and isinstance(fields["version"], str)
        and isinstance(fields["serialize"], bool)
        and all(isinstance(name, str) for name in ignore_inputs)
    )
    # Validated only when a user's option has another type (pydantic's error, as before).
    return ir.CachePolicy.trusted(**fields) if well_typed else ir.CachePolicy(**fields)  # type: ignore[arg-type]


def spec_for_options(base: ir.TaskSpec, options: TaskOptions) -> ir.TaskSpec:
    """``base`` (interface, ref, code hash) with the execution policy of ``options``."""
    return base.model_copy(
        update={
            "name": options.name or base.name,
            "requests": options.requests_spec,
            "limits": options.limits_spec,
            "interruptible": options.interruptible,
            "cache": _cache_policy(options, base.code_hash),
            "retries": options.retries,
            "timeout_seconds": options.timeout_seconds,
            "compute": options.compute,
            "image": options.image,
            "enable_deck": options.enable_deck,
            "secrets": options.secrets,
        }
    )


def declared_options(
    what: str, name: str, kwargs: dict[str, Any], problems: list[str], made_at: ir.SourceLocation
) -> TaskOptions:
    """The options of a task made by a call (``name`` and ``@task``'s keywords in ``kwargs``). Raises
    one DefinitionError at ``made_at`` for their problems and the ``problems`` found before."""
    options: TaskOptions | None = None
    try:
        options = TaskOptions.of(cast("TaskKwargs", {"name": name, **kwargs}))
    except OptionsError as exc:
        problems.extend(exc.messages(what))
    if problems or options is None:
        raise DefinitionError([Problem(p, made_at.path, made_at.line, made_at.col) for p in problems])
    return options


def declared_spec(
    name: str,
    module: str,
    *,
    identity: str,
    interface: Interface,
    made_at: ir.SourceLocation,
    options: TaskOptions,
    run: Callable[..., Any],
) -> ir.TaskSpec:
    """The TaskSpec of a task made by a call (``ShellTask(...)``, ``Echo(...)``) rather than a decorated
    function: ``run`` is registered as ``<module>:<name>`` (what the runner imports and calls), and the
    code hash is that of ``identity`` (what the task runs: editing it changes the cache version)."""
    ref = f"{module}:{name}"
    spec = ir.TaskSpec(
        name=name,
        ref=ref,
        code_hash=hashlib.sha256(identity.encode()).hexdigest(),
        inputs=interface.inputs,
        outputs=interface.outputs,
        output_style=interface.output_style,
        location=ir.SourceLocation(path=display_path(made_at.path), line=made_at.line),
    )
    register(ref, run)
    return spec_for_options(spec, options)


def _build(
    fn: Callable[..., Any],
    kwargs: TaskKwargs,
    kind: Literal["task", "dynamic"],
    decorated_at: ir.SourceLocation,
    actor: ir.ActorRef | None = None,
) -> TaskDef[Any, Any]:
    name = kwargs.get("name") or fn.__name__
    what = f"task '{name}'"
    problems: list[Problem] = []

    def fail(message: str) -> None:
        problems.append(Problem(message, decorated_at.path, decorated_at.line, decorated_at.col))

    interface = extract_interface(fn, what, problems)
    options: TaskOptions | None = None
    try:
        options = TaskOptions.of(kwargs)
    except OptionsError as exc:
        for message in exc.messages(what):
            fail(message)
    input_names = {v.name for v in interface.inputs}
    for ignored in kwargs.get("cache_ignore_input_vars", ()):
        if ignored not in input_names:
            fail(f"{what}: cache_ignore_input_vars names '{ignored}', which is not an input")
    if problems or options is None:
        raise DefinitionError(problems)
    code_hash = task_code_hash(fn)  # its source and the user code it calls
    ref = f"{fn.__module__}:{fn.__qualname__}"
    base = ir.TaskSpec.trusted(
        name=name,
        ref=ref,
        code_hash=code_hash,
        kind=kind,
        inputs=interface.inputs,
        outputs=interface.outputs,
        output_style=interface.output_style,
        location=function_location(fn),
        actor=actor,
    )
    spec = spec_for_options(base, options)
    register(ref, fn)
    return TaskDef(fn=fn, spec=spec, interface=interface, options=options)


@overload
def task(fn: Callable[P, R], /) -> TaskDef[P, R]: ...


@overload
def task(**options: Unpack[TaskKwargs]) -> Callable[[Callable[P, R]], TaskDef[P, R]]: ...


def task(
    fn: Callable[P, R] | None = None, /, **options: Unpack[TaskKwargs]
) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
    """Declare a task: a typed function that runs as one node (on Lambda, Fargate or AWS Batch).

    The options are :class:`~stratoflow.define.TaskOptions`' fields: ``requests``, ``limits``,
    ``accelerator``, ``interruptible``, ``cache``, ``cache_version``, ``cache_serialize``,
    ``cache_ignore_input_vars``, ``retries``, ``timeout``, ``compute``, ``name``,
    ``container_image`` (an image URI or an :class:`~stratoflow.ImageSpec`) and ``secret_requests``
    (the :class:`~stratoflow.Secret` s it reads through ``current_context().secrets``).

    Example:
        >>> @task(retries=2, cache=True)
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> double(x=3)
        6
    """
    return declare(fn, options, kind="task")


def declare(
    fn: Callable[P, R] | None,
    options: TaskKwargs,
    *,
    kind: Literal["task", "dynamic"],
    actor: ir.ActorRef | None = None,
) -> TaskDef[P, R] | Callable[[Callable[P, R]], TaskDef[P, R]]:
    """What ``@task`` / ``@dynamic`` / ``@env.task`` (bare or with options) return."""
    decorated_at = caller_location()
    if fn is not None:
        return _build(fn, options, kind, decorated_at, actor)

    def decorate(inner: Callable[P, R]) -> TaskDef[P, R]:
        return _build(inner, options, kind, decorated_at, actor)

    return decorate
