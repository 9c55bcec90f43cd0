"""Flyte's failure node at run time: the run's error as the ``on_failure`` task's ``err`` input.

The local executor has the error itself; on AWS the runner gets the caught ``{Error, Cause}``
and reads the node and message from the cause the runner raised (other causes keep their text).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stratoflow import ir, values
from stratoflow.define._failure import ERROR_INPUT, FlyteError

if TYPE_CHECKING:
    from stratoflow.runtime._context import NodeContext

__all__ = ["caught_error", "record_failure"]


def record_failure(ctx: NodeContext, *, message: str, node: str) -> None:
    """Store the error for an on_failure task that declares ``err`` (nothing for one that does not)."""
    handler = ctx.spec.on_failure
    if handler is None or ERROR_INPUT not in handler.inputs:
        return
    declared = {v.name: v.type for v in ctx.spec.tasks[handler.task].inputs}[ERROR_INPUT]
    t = declared.args[0] if declared.kind == "optional" else declared
    literal = values.encode(FlyteError(message=message, failed_node_id=node), t, ctx.blobs)
    ctx.outputs.write_outputs(ir.protocol.FAILURE_NODE, {ERROR_INPUT: literal})


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def caught_error(error: dict[str, Any]) -> tuple[str, str]:
    """(message, node) of a state's caught ``{Error, Cause}``: the runner's cause, else its text."""
    cause = _json(error.get("Cause"))
    if isinstance(cause, dict) and "errorMessage" in cause:  # Lambda's error envelope
        cause = _json(cause["errorMessage"])
    parsed = ir.protocol.FailureCause.parse(cause)
    if parsed is not None and parsed.message is not None:
        return parsed.message, parsed.node
    return f"{error.get('Error', 'unknown error')}: {error.get('Cause', '')}".rstrip(": "), ""
