"""Pure-Python checks of a compiled definition, for what the npm ASL validators miss.

asl-validator and amazon-states-language-service (run over the golden files in the test
suite) miss ``States.ALL`` mixed with other names or not last, and nothing offline
enforces the 80-character state-name limit together with the 1 MB definition limit.
The compiler runs these checks on every definition: a failure is a compiler bug, and is
raised as a :class:`~stratoflow.errors.CompileError` rather than deployed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stratoflow.backends.asl._names import MAX_STATE_NAME
from stratoflow.ir import protocol

__all__ = ["MAX_DEFINITION_BYTES", "check_definition", "definition_size_problem"]

MAX_DEFINITION_BYTES = 1_048_576
"""Step Functions' hard limit on a state machine definition (UTF-8 bytes)."""

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_MAX_RETRY_NUMBER = 99_999_999
_JITTER = ("FULL", "NONE")


def definition_size_problem(name: str, size: int) -> str | None:
    """The message for a definition over the 1 MB limit, or None when it fits.

    Example:
        >>> definition_size_problem("big", 2_000_000)[:40]
        'workflow big compiles to 2000000 bytes o'
    """
    if size <= MAX_DEFINITION_BYTES:
        return None
    return (
        f"workflow {name} compiles to {size} bytes of ASL, over Step Functions' 1 MB limit; "
        "split it into sub-workflows"
    )


def _scopes(machine: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``{StartAt, States}`` scope: the machine itself and each Parallel branch, recursively."""
    yield where, machine
    for name, state in machine.get("States", {}).items():
        for i, branch in enumerate(state.get("Branches", ())):
            yield from _scopes(branch, f"{where}/{name}[{i}]")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _scopes(processor, f"{where}/{name}")


def _targets(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices", ()):
        yield rule["Next"]
    for catcher in state.get("Catch", ()):
        yield catcher["Next"]


def _check_error_lists(name: str, state: dict[str, Any]) -> Iterator[str]:
    for field in ("Retry", "Catch"):
        entries = state.get(field, ())
        for i, entry in enumerate(entries):
            errors = entry.get("ErrorEquals", [])
            if not errors:
                yield f"state {name!r}: {field}[{i}] has an empty ErrorEquals"
            if protocol.STATES_ALL in errors and (len(errors) > 1 or i != len(entries) - 1):
                yield f"state {name!r}: {field}[{i}] uses States.ALL, which must be alone and last"
    for i, retrier in enumerate(state.get("Retry", ())):
        if retrier.get("BackoffRate", 2.0) < 1.0:
            yield f"state {name!r}: Retry[{i}] BackoffRate is below 1.0"
        for key in ("MaxAttempts", "IntervalSeconds"):
            if not 0 <= retrier.get(key, 1) <= _MAX_RETRY_NUMBER:
                yield f"state {name!r}: Retry[{i}] {key} is out of range"
        if retrier.get("JitterStrategy", "NONE") not in _JITTER:
            yield f"state {name!r}: Retry[{i}] JitterStrategy must be FULL or NONE"


def check_definition(definition: dict[str, Any]) -> list[str]:
    """Problems found in a compiled definition (empty when it is sound).

    Checks: state names (at most 80 characters of ``[A-Za-z0-9_-]``, unique across the
    whole definition), ``StartAt``/``Next``/``Default``/``Catch`` targets inside their
    scope, ``States.ALL`` alone and last, and Retry bounds.

    Example:
        >>> check_definition({"StartAt": "a", "States": {"a": {"Type": "Succeed"}}})
        []
    """
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, scope in _scopes(definition, "<root>"):
        states = scope.get("States", {})
        if scope.get("StartAt") not in states:
            problems.append(f"{where}: StartAt {scope.get('StartAt')!r} is not a state of this scope")
        for name, state in states.items():
            if len(name) > MAX_STATE_NAME or not _NAME.match(name):
                problems.append(f"state name {name!r} is not 1-{MAX_STATE_NAME} characters of [A-Za-z0-9_-]")
            if name in seen:
                problems.append(f"state name {name!r} is used in both {seen[name]} and {where}")
            seen[name] = where
            problems += [
                f"state {name!r} goes to {target!r}, not a state of its scope"
                for target in _targets(state)
                if target not in states
            ]
            problems += _check_error_lists(name, state)
    return problems
