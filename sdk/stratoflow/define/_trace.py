"""Tracing: while a workflow body runs, task calls record nodes and return promises.

The active trace lives in a ContextVar. With no trace, a task call just calls the
function. Misusing a promise as a Python value records a problem and returns a harmless
placeholder, so one trace reports every mistake at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow import ir, values
from stratoflow.define._calls import Call, GateCall, MapCall, MapOptions, TaskCall, WorkflowCall
from stratoflow.define._location import caller_location
from stratoflow.errors import Problem

if TYPE_CHECKING:
    from stratoflow.define._condition import Expr

__all__ = [
    "Call",
    "GateCall",
    "MapCall",
    "MapOptions",
    "Promise",
    "TaskCall",
    "Trace",
    "WorkflowCall",
    "active_trace",
    "bind_inputs",
    "bind_value",
    "constant_to_json",
]

_ACTIVE: ContextVar[Trace | None] = ContextVar("stratoflow_trace", default=None)


def active_trace() -> Trace | None:
    """The trace being recorded, if a workflow body is running."""
    return _ACTIVE.get()


@dataclass
class Trace:
    """The graph recorded from one run of a workflow body."""

    workflow: str
    calls: list[Call] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    # Names of the gates' signals: unique in a run, since a signal is sent to the run by name.
    signal_names: set[str] = field(default_factory=set)
    # The last suffix tried per base: ids are never released, so every smaller one is taken
    # (a @dynamic of 1,000 calls of one task would otherwise retry 1 .. n for each: quadratic).
    _last_suffix: dict[str, int] = field(default_factory=dict)
    # Conditionals started but not ended with else_(), by id: (name, where).
    pending: dict[int, tuple[str, ir.SourceLocation]] = field(default_factory=dict)
    # Conditions built but not (yet) used by if_/elif_, '&' or '|', by id.
    unused: dict[int, Expr] = field(default_factory=dict)

    def __enter__(self) -> Trace:
        self._token = _ACTIVE.set(self)
        self._top = self.calls
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._token)
        self.calls = self._top  # an unfinished case may still be capturing calls
        for name, where in self.pending.values():
            self.problem(
                f"conditional '{name}' has no else_() in workflow '{self.workflow}'",
                where,
                hint='end it with .else_().then(...) or .else_().fail("message")',
            )
        self.pending.clear()
        for expr in self.unused.values():
            expr.report_unused()
        self.unused.clear()

    def order(self, upstream: str, downstream: str, location: ir.SourceLocation) -> None:
        """``upstream >> downstream``: the downstream call (in the current scope) runs after."""
        for i, call in enumerate(self.calls):
            if call.node_id == downstream:
                if upstream not in call.after:
                    self.calls[i] = call._replace(after=(*call.after, upstream))
                return
        self.problem(f"'>>' orders calls of the same scope; node '{downstream}' is not one", location)

    def problem(self, message: str, location: ir.SourceLocation, hint: str | None = None) -> None:
        self.problems.append(
            Problem(message=message, path=location.path, line=location.line, col=location.col, hint=hint)
        )

    def new_node_id(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:60] or "node"
        n = self._last_suffix.get(base, 1)
        candidate = base if n == 1 else f"{base}_{n}"
        while candidate in self._ids:
            n += 1
            candidate = f"{base}_{n}"
        self._ids.add(candidate)
        self._last_suffix[base] = n
        return candidate


class Promise:
    """A value that will exist when the workflow runs; it cannot be used as a Python value."""

    __slots__ = ("_binding", "_trace", "_type", "_what")

    def __init__(self, trace: Trace, binding: ir.Binding, type_: ir.TypeRef, what: str) -> None:
        self._trace, self._binding, self._type, self._what = trace, binding, type_, what

    @property
    def binding(self) -> ir.Binding:
        return self._binding

    @property
    def type(self) -> ir.TypeRef:
        return self._type

    @property
    def what(self) -> str:
        """What it is the promise of, for messages (``output 'o0' of node 'split'``)."""
        return self._what

    def __repr__(self) -> str:
        return f"Promise({self._what}: {self._type.render()})"

    def _misuse(self, action: str, location: ir.SourceLocation | None = None) -> None:
        self._trace.problem(
            f"{self._what} is a promise and cannot be used as a Python value ({action}) in workflow "
            f"'{self._trace.workflow}'",
            location or caller_location(),
            hint="pass it to a task; use @dynamic or map_task for data-dependent logic",
        )

    def __bool__(self) -> bool:
        self._misuse("truth test, e.g. 'if' or 'and'")
        return False

    def __iter__(self) -> Any:
        self._misuse("iteration")
        return iter(())

    def __len__(self) -> int:
        self._misuse("len()")
        return 0

    def __index__(self) -> int:
        self._misuse("used as an index")
        return 0

    def __int__(self) -> int:
        self._misuse("int()")
        return 0

    def __float__(self) -> float:
        self._misuse("float()")
        return 0.0

    def __format__(self, spec: str) -> str:
        self._misuse("string formatting")
        return ""

    def __getitem__(self, key: object) -> Promise:
        """``out[0]`` of a list, ``out["k"]`` of a dict: a promise of that item (Flyte's form)."""
        if self._type.kind not in ("list", "dict"):
            self._misuse("indexing")
            return self
        from stratoflow.define._element import index_promise  # noqa: PLC0415 - it imports this module

        return index_promise(self._trace, self, key, caller_location())

    def _arith(self, *_: object) -> Promise:
        self._misuse("arithmetic or comparison")
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _arith
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = _arith

    # Comparisons build conditions for conditional(); used as a bool they report a problem.
    def __eq__(self, other: object) -> Expr:  # type: ignore[override]
        return _compare(self, "eq", other)

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]
        return _compare(self, "ne", other)

    def __lt__(self, other: object) -> Expr:
        return _compare(self, "lt", other)

    def __le__(self, other: object) -> Expr:
        return _compare(self, "le", other)

    def __gt__(self, other: object) -> Expr:
        return _compare(self, "gt", other)

    def __ge__(self, other: object) -> Expr:
        return _compare(self, "ge", other)

    def is_true(self) -> Expr:
        return _compare(self, "is_true")

    def is_false(self) -> Expr:
        return _compare(self, "is_false")

    def is_none(self) -> Expr:
        return _compare(self, "is_none")

    def with_overrides(self, **overrides: Any) -> Promise:
        """Override the options of the task call that returned this promise (Flyte's form)."""
        from stratoflow.define._nodes import override_node  # noqa: PLC0415 - _nodes imports this module

        override_node(self._trace, self, overrides, caller_location())
        return self

    def __rshift__(self, other: object) -> object:
        """``a >> b``: run ``b``'s node after ``a``'s, without passing data (Flyte's ordering)."""
        from stratoflow.define._nodes import order_nodes  # noqa: PLC0415 - _nodes imports this module

        order_nodes(self._trace, self, other, caller_location())
        return other

    __hash__ = object.__hash__

    def __setattr__(self, name: str, value: object) -> None:
        if name in Promise.__slots__:
            object.__setattr__(self, name, value)
            return
        self._misuse("attribute assignment")

    def __getattr__(self, name: str) -> Promise:
        # A field of a dataclass or pydantic output (Flyte's attribute access); private names
        # (and this object's own slots, looked up before they are set) are never fields.
        if not name.startswith("_") and self._type.kind in ("dataclass", "pydantic"):
            from stratoflow.define._element import attribute_promise  # noqa: PLC0415 - it imports this module

            return attribute_promise(self._trace, self, name, caller_location())
        raise AttributeError(
            f"{self._what} is a promise; its attribute {name!r} does not exist until the workflow runs"
        )


def _compare(left: Promise, op: ir.CompareOp, right: object = None) -> Expr:
    # Conditions' module loads here: a workflow without conditionals never compares promises.
    from stratoflow.define._condition import compare  # noqa: PLC0415 - first comparison only

    return compare(left, op, right)


def constant_to_json(value: object, t: ir.TypeRef) -> Any:
    """Encode a constant from a workflow body (or a default) to JSON; files by path."""
    if t.kind == "int" and type(value) is int and -(2**63) <= value < 2**63:  # a loop index: as encoded
        return value
    if t.kind in ("file", "directory") or (t.kind == "optional" and t.args[0].kind in ("file", "directory")):
        if value is None and t.kind == "optional":
            return None
        if isinstance(value, values.File | values.Directory):
            return value.uri
        if isinstance(value, str):
            return value
        raise values.ValueTypeError(t, value)
    values.check_value(value, t)
    return values.encode(value, t, _NoBlobs()).value


class _NoBlobs:
    """Constants are small; a blob store that refuses keeps big constants out of the IR."""

    def put_bytes(self, data: bytes, *, digest: str) -> str:
        raise values.ValueTypeError(
            ir.TypeRef.trusted(kind="none"), f"<{len(data)} bytes: too large for a constant>"
        )

    def put_file(self, path: Path, *, digest: str) -> str:
        raise values.ValueTypeError(
            ir.TypeRef.trusted(kind="none"), f"<file {path}: make it a workflow input>"
        )

    def get_bytes(self, uri: str) -> bytes:
        raise NotImplementedError

    def exists(self, uri: str) -> bool:
        return False

    def download(self, uri: str, dest: Path) -> None:
        raise NotImplementedError

    def download_tree(self, uri: str, dest: Path) -> None:
        raise NotImplementedError


def _describe(binding: ir.Binding) -> str:
    if isinstance(binding, ir.PromiseBinding):
        return f"output '{binding.output}' of node '{binding.node}'"
    if isinstance(binding, ir.InputBinding):
        return f"workflow input '{binding.name}'"
    if isinstance(binding, ir.ElementBinding):
        return f"item {binding.key!r} of {_describe(binding.of)}"
    return "value"


def _holds_promise(value: object) -> bool:
    """Whether a list, tuple or dict (at any depth of nesting) built in a body holds a promise."""
    if isinstance(value, list | tuple):
        return any(isinstance(v, Promise) or _holds_promise(v) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Promise) or _holds_promise(v) for v in value.values())
    return False


def bind_value(
    trace: Trace, value: object, t: ir.TypeRef, label: str, location: ir.SourceLocation
) -> ir.Binding | None:
    """The binding for a value passed to (or returned from) a body: promise, container or constant."""
    if isinstance(value, Promise):
        if not values.is_assignable(value.type, t):
            trace.problem(
                f"{label} expects {t.render()}, but {_describe(value.binding)} is {value.type.render()}",
                location,
            )
        return value.binding
    if _holds_promise(value):
        container = t.args[0] if t.kind == "optional" else t
        if isinstance(value, list | tuple) and container.kind == "list":
            items = [bind_value(trace, v, container.args[0], f"{label} item", location) for v in value]
            return ir.ListBinding.trusted(items=tuple(i for i in items if i is not None))
        if isinstance(value, dict) and container.kind == "dict":
            entries: dict[str, ir.Binding] = {}
            key_type = container.args[0]
            for key, v in value.items():
                try:
                    text = values.key_text(key, key_type)  # JSON object keys are text
                except values.ValueTypeError:
                    trace.problem(
                        f"{label} keys must be {key_type.render()}, got {type(key).__name__} {key!r}",
                        location,
                    )
                    continue
                entry = bind_value(trace, v, container.args[1], f"{label} entry {key!r}", location)
                if entry is not None:
                    entries[text] = entry
            return ir.DictBinding.trusted(entries=entries)
        shape = "a dict" if isinstance(value, dict) else "a list"
        trace.problem(f"{label} expects {t.render()}, got {shape}", location)
        return None
    try:
        return ir.LiteralBinding.trusted(value=constant_to_json(value, t))
    except values.ValueTypeError as exc:
        trace.problem(f"{label}: {exc}", location)
        return None


def bind_inputs(
    trace: Trace,
    *,
    target: str,
    interface: tuple[ir.Variable, ...],
    args: tuple[object, ...],
    kwargs: Mapping[str, object],
    location: ir.SourceLocation,
    overrides: Mapping[str, ir.TypeRef] | None = None,
) -> dict[str, ir.Binding]:
    """Check a call's arguments against an interface and turn them into bindings."""
    if args:
        trace.problem(
            f"{target} was called with {len(args)} positional argument(s) in workflow '{trace.workflow}'; "
            "inside a workflow, pass inputs by keyword",
            location,
        )
    known = {v.name: v for v in interface}
    bindings: dict[str, ir.Binding] = {}
    for name, value in kwargs.items():
        if name not in known:
            import difflib  # noqa: PLC0415 - only to suggest a name in an error

            close = difflib.get_close_matches(name, list(known), n=1)
            trace.problem(
                f"{target} got unexpected argument '{name}' in workflow '{trace.workflow}'",
                location,
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"its inputs are: {', '.join(known) or 'none'}",
            )
            continue
        t = (overrides or {}).get(name, known[name].type)
        binding = bind_value(trace, value, t, f"input '{name}' of {target}", location)
        if binding is not None:
            bindings[name] = binding
    for variable in interface:
        # With positional arguments the inputs are probably all there, just unnamed:
        # the positional problem above already says what to change.
        if variable.name not in kwargs and not variable.has_default and not args:
            trace.problem(
                f"{target} is missing required input '{variable.name}' ({variable.type.render()}) "
                f"in workflow '{trace.workflow}'",
                location,
            )
    return bindings
