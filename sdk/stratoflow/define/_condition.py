"""Flyte's ``conditional()``: branches in a workflow body, decided when the workflow runs.

``conditional("name").if_(expr).then(call).elif_(expr).then(call).else_().then(call)`` (or
``.else_().fail("message")``). Python evaluates ``call`` after ``if_`` returns and before
``then`` runs, so ``if_``/``elif_``/``else_`` start capturing the trace's calls into the case
and ``then`` stops: the calls a case makes become that case's nodes (nested conditionals too).

Conditions are built from promises with ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
``.is_true()``, ``.is_false()``, ``.is_none()``, combined with ``&`` and ``|``; each compares
scalars (int, float, str, bool, None and their Optionals), checked where it is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from stratoflow import ir, values
from stratoflow.define._location import caller_location

if TYPE_CHECKING:
    from stratoflow.define._trace import Call, Promise, Trace

__all__ = ["BranchCall", "CaseCall", "ConditionalSection", "Expr", "compare", "conditional"]

_SCALARS = frozenset(
    {"int", "float", "str", "bool", "none", "datetime", "date", "timedelta", "decimal", "enum"}
)
_SCALAR_NAMES = "int, float, str, bool, None, datetime, date, timedelta, Decimal or an Enum"
_NUMBERS = frozenset({"int", "float"})
_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class CaseCall(NamedTuple):  # not a dataclass: see define._trace's calls
    """One recorded case: its condition (None: else), the calls it made, what it returns."""

    condition: ir.Comparison | ir.BoolOp | None
    calls: tuple[Call, ...]
    outputs: dict[str, ir.Binding]
    fail: str | None = None


class BranchCall(NamedTuple):  # not a dataclass: see define._trace's calls
    """A conditional recorded in a workflow body: one BranchNode."""

    node_id: str
    name: str
    cases: tuple[CaseCall, ...]
    outputs: tuple[ir.Variable, ...]
    location: ir.SourceLocation
    kind: Literal["branch"] = "branch"
    after: tuple[str, ...] = ()


class Expr:
    """A condition over promises; usable only in ``if_``/``elif_`` (never as a Python bool)."""

    __slots__ = ("condition", "location", "subject", "trace")

    def __init__(
        self, trace: Trace, condition: ir.Comparison | ir.BoolOp | None, subject: Promise | None = None
    ) -> None:
        # condition is None when the expression was invalid (its problem is already recorded).
        self.trace, self.condition, self.subject = trace, condition, subject
        self.location = caller_location()
        if condition is not None:
            trace.unused[id(self)] = self

    def use(self) -> ir.Comparison | ir.BoolOp | None:
        """The condition, now consumed (an unused one is a mistake reported when tracing ends)."""
        self.trace.unused.pop(id(self), None)
        return self.condition

    def report_unused(self) -> None:
        if self.subject is not None:
            self.subject._misuse("comparison", self.location)

    def _join(self, other: object, kind: Literal["and", "or"]) -> Expr:
        if not isinstance(other, Expr):
            self.use()  # reported here, not again as an unused condition
            symbol = "&" if kind == "and" else "|"
            self.trace.problem(
                f"'{symbol}' combines conditions, got {type(other).__name__} {other!r:.40}", caller_location()
            )
            return Expr(self.trace, None)
        left, right = self.use(), other.use()
        if left is None or right is None:
            return Expr(self.trace, None)
        return Expr(self.trace, ir.BoolOp(kind=kind, left=left, right=right), self.subject)

    def __and__(self, other: object) -> Expr:
        return self._join(other, "and")

    def __or__(self, other: object) -> Expr:
        return self._join(other, "or")

    def __bool__(self) -> bool:
        self.use()
        if self.subject is not None:
            self.subject._misuse("truth test, e.g. 'if' or 'and'")
        return False


def _base(t: ir.TypeRef) -> ir.TypeRef:
    return t.args[0] if t.kind == "optional" else t


def _constant_type(value: object) -> ir.TypeRef | None:
    kinds: tuple[tuple[type, ir.TypeKind], ...] = (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "str"),
    )
    for python_type, kind in kinds:
        if isinstance(value, python_type):
            return ir.TypeRef(kind=kind)
    if value is None:
        return ir.TypeRef(kind="none")
    if isinstance(value, dt.date | dt.timedelta | decimal.Decimal | enum.Enum):
        try:
            return values.typeref_of(type(value))
        except values.UnsupportedTypeError:
            return None
    return None


def compare(left: Promise, op: ir.CompareOp, right: object = None) -> Expr:
    """``left <op> right`` as a condition, or a recorded problem (at the user's line) and no condition."""
    from stratoflow.define._trace import Promise  # noqa: PLC0415 - _trace imports this module

    trace, where = left._trace, caller_location()
    what = f"{left._what} ({left.type.render()})"
    if _base(left.type).kind not in _SCALARS:
        trace.problem(
            f"cannot compare {what} in a condition; conditions compare {_SCALAR_NAMES}",
            where,
        )
        return Expr(trace, None)
    if op in ("is_true", "is_false", "is_none"):
        if op != "is_none" and _base(left.type).kind != "bool":
            trace.problem(f"{op}() needs a bool, but {what} is not", where)
            return Expr(trace, None)
        return Expr(trace, ir.Comparison(op=op, left=left.binding, left_type=left.type), left)
    if isinstance(right, Promise):
        right_binding, right_type, right_what = right.binding, right.type, right._what
    else:
        constant_type = _constant_type(right)
        if constant_type is None:
            trace.problem(
                f"cannot compare {what} with {type(right).__name__} {right!r:.40}; "
                f"compare with an {_SCALAR_NAMES} constant, or another promise",
                where,
            )
            return Expr(trace, None)
        from stratoflow.define._trace import constant_to_json  # noqa: PLC0415 - _trace imports this module

        literal = ir.LiteralBinding(value=constant_to_json(right, constant_type))
        shown = f"{type(right).__name__}.{right.name}" if isinstance(right, enum.Enum) else repr(right)
        right_binding, right_type, right_what = literal, constant_type, shown
    left_base, right_base = _base(left.type), _base(right_type)
    kinds = {left_base.kind, right_base.kind}
    comparable = (len(kinds) == 1 and left_base.ref == right_base.ref) or kinds <= _NUMBERS
    comparable = comparable or ("none" in kinds and op in ("eq", "ne"))
    if kinds == {"enum"} and op not in ("eq", "ne"):
        comparable = False  # Enum members have no order
    if not comparable or _base(right_type).kind not in _SCALARS:
        trace.problem(
            f"cannot compare {what} {_SYMBOLS[op]} {right_what} ({right_type.render()}) in a condition",
            where,
        )
        return Expr(trace, None)
    return Expr(
        trace,
        ir.Comparison(
            op=op, left=left.binding, left_type=left.type, right=right_binding, right_type=right_type
        ),
        left,
    )


@dataclass
class _Case:
    condition: ir.Comparison | ir.BoolOp | None
    location: ir.SourceLocation
    saved: list[Call]
    calls: list[Call] = field(default_factory=list)


class ConditionalSection:
    """What ``conditional(name)`` returns; also what ``then`` returns until ``else_``."""

    def __init__(self, trace: Trace | None, name: str, location: ir.SourceLocation) -> None:
        self._trace, self._name, self._location = trace, name, location
        self._cases: list[CaseCall] = []
        self._open: _Case | None = None
        self._ended = False
        self._case_types: list[tuple[ir.TypeRef, ...] | None] = []  # per closed case; None: fail
        if trace is not None:
            trace.pending[id(self)] = (name, location)

    def _start(self, expr: Expr | None, method: str) -> Case:
        trace = self._trace
        location = caller_location()
        if trace is None:
            raise RuntimeError(f"conditional '{self._name}' can only be used in a workflow body")
        if expr is not None and not isinstance(expr, Expr):
            trace.problem(
                f"{method}() of conditional '{self._name}' takes a condition on promises "
                f"(e.g. x > 0), got {type(expr).__name__} {expr!r:.40}",
                location,
            )
            expr = Expr(trace, None)
        if self._open is not None or self._ended:
            trace.problem(f"conditional '{self._name}': {method}() must follow then()", location)
        # Capture the calls made until then(): they are this case's nodes.
        self._open = _Case(expr.use() if expr is not None else None, location, trace.calls)
        trace.calls = self._open.calls
        return Case(self, is_else=expr is None)

    def if_(self, expr: Expr) -> Case:
        if self._cases:
            assert self._trace is not None  # noqa: S101 - a section with cases was traced
            self._trace.problem(f"conditional '{self._name}' has if_() twice; use elif_()", caller_location())
        return self._start(expr, "if_")

    def elif_(self, expr: Expr) -> Case:
        return self._start(expr, "elif_")

    def else_(self) -> Case:
        return self._start(None, "else_")

    def _close(
        self, outputs: dict[str, ir.Binding], fail: str | None, types: tuple[ir.TypeRef, ...] | None
    ) -> None:
        assert self._open is not None and self._trace is not None  # noqa: S101 - then() follows a case
        self._trace.calls = self._open.saved
        self._cases.append(CaseCall(self._open.condition, tuple(self._open.calls), outputs, fail))
        self._case_types.append(types)
        self._open = None

    def _finish(self) -> Any:
        """After else_: record the BranchNode and return its promise(s), shaped like a case's value."""
        from stratoflow.define._trace import Promise  # noqa: PLC0415

        trace = self._trace
        assert trace is not None  # noqa: S101
        self._ended = True
        trace.pending.pop(id(self), None)
        returned = [t for t in self._case_types if t is not None]
        shape = returned[0] if returned else ()
        for other in returned[1:]:
            if [t.render() for t in other] != [t.render() for t in shape]:
                trace.problem(
                    f"the cases of conditional '{self._name}' return different types: "
                    f"({', '.join(t.render() for t in shape)}) and ({', '.join(t.render() for t in other)})",
                    self._location,
                )
                break
        outputs = tuple(ir.Variable(name=f"o{i}", type=t) for i, t in enumerate(shape))
        node_id = trace.new_node_id(self._name)
        trace.calls.append(
            BranchCall(
                node_id=node_id,
                name=self._name,
                cases=tuple(self._cases),
                outputs=outputs,
                location=self._location,
            )
        )
        promises = [
            Promise(
                trace,
                ir.PromiseBinding(node=node_id, output=v.name),
                v.type,
                f"output '{v.name}' of conditional '{self._name}'",
            )
            for v in outputs
        ]
        if not promises:  # cases of tasks without outputs: a node to order with '>>'
            from stratoflow.define._nodes import VoidPromise  # noqa: PLC0415 - _nodes imports _trace

            return VoidPromise(trace, node_id)
        return promises[0] if len(promises) == 1 else tuple(promises)


class Case:
    """One ``if_``/``elif_``/``else_`` arm, waiting for ``then(...)`` or ``fail(...)``."""

    def __init__(self, section: ConditionalSection, *, is_else: bool) -> None:
        self._section, self._is_else = section, is_else
        self._types: list[tuple[ir.TypeRef, ...] | None] = []

    def then(self, value: Any) -> Any:
        """The promise(s) this case returns: a call made in the case (a task or workflow)."""
        from stratoflow.define._trace import Promise  # noqa: PLC0415

        section = self._section
        assert section._trace is not None  # noqa: S101
        from stratoflow.define._nodes import VoidPromise  # noqa: PLC0415 - _nodes imports _trace

        if isinstance(value, VoidPromise):  # a call of a task without outputs
            value = None
        items = value if isinstance(value, tuple) else (value,) if value is not None else ()
        bad = [item for item in items if not isinstance(item, Promise)]
        if bad:
            section._trace.problem(
                f"then() of conditional '{section._name}' takes the promise(s) a task or workflow call "
                f"returns, got {type(bad[0]).__name__} {bad[0]!r:.40}",
                caller_location(),
            )
            items = ()
        promises: list[Promise] = list(items)
        outputs = {f"o{i}": p.binding for i, p in enumerate(promises)}
        # A bad then() is reported once: its case's (empty) types are not compared with the others'.
        section._close(outputs, None, None if bad else tuple(p.type for p in promises))
        if self._is_else:
            return section._finish()
        return section

    def fail(self, message: str) -> Any:
        """Fail the run with ``message`` when this case is taken (Flyte's ``.fail``)."""
        section = self._section
        section._close({}, str(message), None)
        if self._is_else:
            return section._finish()
        return section


def conditional(name: str) -> ConditionalSection:
    """Start a conditional in a workflow body (Flyte's ``conditional``)."""
    from stratoflow.define._trace import active_trace  # noqa: PLC0415

    return ConditionalSection(active_trace(), name, caller_location())
