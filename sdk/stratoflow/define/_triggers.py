"""``S3Trigger``: start a workflow when an object lands in S3, and its definition-time checks.

A triggered run gets only what the event carries, the object's URI, so the checks here
make sure such a run can be started at all: the named input exists and is a ``File``,
and every other input has a default.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stratoflow import ir
from stratoflow.define._interface import Interface
from stratoflow.errors import Problem

# RESERVED_PREFIXES: where stratoflow writes its own objects in the data bucket. A trigger
# there would start runs from stratoflow's own writes (a loop), so it is a definition error,
# and the starter ignores such keys whatever the trigger says. Taken from the storage layout
# itself, not ir.protocol, which loads pydantic (`import stratoflow` stays light).
from stratoflow.ir._names import RESERVED_PREFIXES

__all__ = ["RESERVED_PREFIXES", "S3Trigger", "check_triggers"]


# S3 URL-encodes keys in some event formats (space -> '+', ':' -> '%3A'); with only these
# characters a prefix or suffix reads the same encoded or not, and needs no escaping in an
# EventBridge wildcard pattern.
_SAFE = re.compile(r"[A-Za-z0-9/._-]*")


@dataclass(frozen=True, kw_only=True)
class S3Trigger:
    """Start the workflow when an object is created in the stack's bucket under ``prefix``
    and ending in ``suffix``; the object (``File("s3://bucket/key")``) fills input ``input``.

    Delivery is at least once; the starter names the execution after the bucket, key and
    object version, so a duplicated event never starts a second run.

    Example:
        >>> from stratoflow import File, S3Trigger, workflow
        >>> @workflow(triggers=[S3Trigger(prefix="incoming/", suffix=".csv", input="data")])
        ... def report(data: File) -> int: ...  # doctest: +SKIP
    """

    input: str
    prefix: str = ""
    suffix: str = ""

    def to_spec(self) -> ir.TriggerSpec:
        """The IR of this trigger."""
        return ir.TriggerSpec(kind="s3", prefix=self.prefix, suffix=self.suffix, input=self.input)


def _check_one(
    trigger: S3Trigger, interface: Interface, workflow: str, where: ir.SourceLocation, problems: list[Problem]
) -> None:
    label = f"S3 trigger of workflow '{workflow}'"
    for part, value in (("prefix", trigger.prefix), ("suffix", trigger.suffix)):
        if not _SAFE.fullmatch(value):
            problems.append(
                Problem(
                    f"{label} has {part} {value!r}; trigger prefixes and suffixes may use only "
                    "letters, digits and / . _ -",
                    where.path,
                    where.line,
                    where.col,
                    hint="S3 URL-encodes other characters in some events, so they cannot be matched reliably",
                )
            )
    reserved = next((p for p in RESERVED_PREFIXES if trigger.prefix.startswith(p)), None)
    if reserved is not None:
        problems.append(
            Problem(
                f"{label} watches prefix {trigger.prefix!r}, where stratoflow writes its own objects "
                f"({', '.join(RESERVED_PREFIXES)})",
                where.path,
                where.line,
                where.col,
                hint="use another prefix, e.g. 'incoming/'",
            )
        )
    inputs = {v.name: v for v in interface.inputs}
    variable = inputs.get(trigger.input)
    if variable is None:
        import difflib  # noqa: PLC0415 - only to suggest a name in an error

        close = difflib.get_close_matches(trigger.input, list(inputs), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"its inputs are: {', '.join(inputs) or 'none'}"
        problems.append(
            Problem(
                f"{label} names input '{trigger.input}', which the workflow does not have",
                where.path,
                where.line,
                where.col,
                hint=hint,
            )
        )
        return
    if variable.type.kind != "file":
        problems.append(
            Problem(
                f"{label} names input '{trigger.input}', which is {variable.type.render()}; "
                "a trigger fills a File input with the new object",
                where.path,
                where.line,
                where.col,
            )
        )
    for other in interface.inputs:
        if other.name != trigger.input and not other.has_default:
            problems.append(
                Problem(
                    f"{label} fills only input '{trigger.input}', but input '{other.name}' has no default",
                    where.path,
                    where.line,
                    where.col,
                    hint=f"give '{other.name}' a default, or start this workflow with Client.run",
                )
            )


def check_triggers(
    triggers: Sequence[S3Trigger],
    interface: Interface,
    workflow: str,
    where: ir.SourceLocation,
    problems: list[Problem],
) -> tuple[ir.TriggerSpec, ...]:
    """Check every trigger against the workflow's interface (problems reported at ``where``,
    the decorator) and return their IR."""
    for trigger in triggers:
        _check_one(trigger, interface, workflow, where, problems)
    return tuple(trigger.to_spec() for trigger in triggers)
