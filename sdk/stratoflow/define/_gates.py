"""Flyte's gates in a workflow body: ``sleep``, ``wait_for_input`` and ``approve``.

Each records one gate node. ``wait_for_input`` and ``approve`` wait for a signal sent to the
run (``stratoflow signal RUN NAME VALUE``, ``stratoflow approve RUN NAME [--reject]``) and fail
the node when none comes within ``timeout``.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, Literal, TypeVar, cast

from stratoflow import ir, values
from stratoflow.define._location import caller_location
from stratoflow.define._nodes import VoidPromise
from stratoflow.define._trace import GateCall, Promise, Trace, active_trace

__all__ = ["approve", "sleep", "wait_for_input"]

T = TypeVar("T")


def _seconds(trace: Trace, what: str, duration: object, where: ir.SourceLocation) -> int:
    if not isinstance(duration, timedelta) or duration.total_seconds() < 1:
        trace.problem(f"{what} takes a timedelta of at least 1 second, got {duration!r}", where)
        return 1
    return int(duration.total_seconds())


def _check_name(trace: Trace, what: str, name: object, where: ir.SourceLocation) -> str:
    if not isinstance(name, str) or not ir.protocol.SIGNAL_NAME.match(name):
        trace.problem(
            f"{what} name {name!r} must be 1-80 letters, digits, '_' or '-' (it is a key of the run)", where
        )
        return "invalid"
    if name in trace.signal_names:
        trace.problem(f"{what} name '{name}' is used twice in workflow '{trace.workflow}'", where)
    trace.signal_names.add(name)
    return name


def _record(
    trace: Trace,
    *,
    gate: Literal["sleep", "input", "approve"],
    name: str,
    seconds: int,
    type_: ir.TypeRef | None,
    inputs: dict[str, ir.Binding],
    where: ir.SourceLocation,
) -> str:
    node_id = trace.new_node_id(name if gate != "sleep" else "sleep")
    trace.calls.append(
        GateCall(
            node_id=node_id, gate=gate, name=name, seconds=seconds, type=type_, inputs=inputs, location=where
        )
    )
    return node_id


def sleep(duration: timedelta) -> VoidPromise:
    """Wait ``duration`` (a ``Wait`` state on AWS, a real sleep locally); order it with ``>>``.

    Outside a workflow body it just sleeps.

    Example:
        >>> @workflow
        ... def wf() -> None:
        ...     sleep(timedelta(seconds=5)) >> report()  # doctest: +SKIP
    """
    trace = active_trace()
    if trace is None:
        time.sleep(duration.total_seconds())
        return cast("VoidPromise", None)
    where = caller_location()
    seconds = _seconds(trace, "sleep()", duration, where)
    return VoidPromise(
        trace, _record(trace, gate="sleep", name="", seconds=seconds, type_=None, inputs={}, where=where)
    )


def wait_for_input(name: str, timeout: timedelta, expected_type: type[T]) -> T:
    """A value of ``expected_type`` sent to the run as signal ``name`` within ``timeout``.

    Example:
        >>> @workflow
        ... def wf() -> int:
        ...     n = wait_for_input("count", timeout=timedelta(hours=1), expected_type=int)
        ...     return double(x=n)  # doctest: +SKIP
    """
    trace = _trace_or_fail("wait_for_input")
    where = caller_location()
    checked = _check_name(trace, "wait_for_input()", name, where)
    seconds = _seconds(trace, f"wait_for_input('{checked}') timeout", timeout, where)
    try:
        type_ = values.typeref_of(expected_type)
    except values.UnsupportedTypeError as exc:
        trace.problem(f"wait_for_input('{checked}') expected_type: {exc}", where)
        type_ = ir.TypeRef(kind="none")
    node_id = _record(trace, gate="input", name=checked, seconds=seconds, type_=type_, inputs={}, where=where)
    promise = Promise(trace, ir.PromiseBinding(node=node_id, output="o0"), type_, f"signal '{checked}'")
    return cast("T", promise)


def approve(upstream: T, name: str, timeout: timedelta) -> T:
    """``upstream``'s value, once the run is approved (signal ``name``) within ``timeout``.

    A rejection (``stratoflow approve RUN NAME --reject``) or no answer in time fails the node.

    Example:
        >>> @workflow
        ... def wf(x: int) -> int:
        ...     return publish(x=approve(train(x=x), "deploy", timeout=timedelta(hours=2)))  # doctest: +SKIP
    """
    trace = _trace_or_fail("approve")
    where = caller_location()
    checked = _check_name(trace, "approve()", name, where)
    seconds = _seconds(trace, f"approve('{checked}') timeout", timeout, where)
    if not isinstance(upstream, Promise):
        trace.problem(
            f"approve('{checked}') takes a task's output (a promise), got {type(upstream).__name__}", where
        )
        return upstream
    node_id = _record(
        trace,
        gate="approve",
        name=checked,
        seconds=seconds,
        type_=upstream.type,
        inputs={"value": upstream.binding},
        where=where,
    )
    promise: Any = Promise(
        trace, ir.PromiseBinding(node=node_id, output="o0"), upstream.type, f"approved '{checked}'"
    )
    return cast("T", promise)


def _trace_or_fail(what: str) -> Trace:
    trace = active_trace()
    if trace is None:
        raise TypeError(f"{what}() records a gate in a @workflow body; outside one there is no run to signal")
    return trace
