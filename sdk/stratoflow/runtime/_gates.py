"""Gates at run time, shared by the local executor, the runner Lambda and the client.

A signal is ``{"value": <literal>}`` (``wait_for_input``) or ``{"approved": bool}``
(``approve``), stored under :func:`protocol.signal_key`. Whoever sends one builds it with
:func:`signal_body`; the run turns it into the gate's output with :func:`finish_gate`.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from stratoflow import ir, values
from stratoflow.errors import InputError, TaskFailedError
from stratoflow.runtime._runner import resolve_binding
from stratoflow.values import LiteralRef

if TYPE_CHECKING:
    from pathlib import Path

    from stratoflow.runtime._context import NodeContext
    from stratoflow.values import BlobStore

__all__ = [
    "announce_local_gate",
    "finish_gate",
    "gate_rejected",
    "gate_timed_out",
    "send_local_signal",
    "signal_body",
    "wait_local_signal",
    "waiting_gate",
]

OUTPUT = "o0"


def signal_body(gate: ir.GateNode, value: object, blobs: BlobStore, *, approved: bool = True) -> bytes:
    """The stored signal for ``gate``: ``value`` coerced and encoded as the gate's type, or a verdict."""
    if gate.gate == "approve":
        return json.dumps({"approved": approved}).encode()
    if gate.type is None or gate.gate != "input":
        raise InputError(f"node '{gate.id}' is a {gate.gate} gate: it takes no signal")
    try:
        literal = values.encode(values.coerce_input(value, gate.type), gate.type, blobs)
    except (values.ValueTypeError, TypeError, ValueError) as exc:
        raise InputError(f"signal '{gate.name}' expects {gate.type.render()}: {exc}") from exc
    return json.dumps({"value": literal.to_json()}).encode()


def gate_timed_out(gate: ir.GateNode) -> TaskFailedError:
    """The error of ``gate`` when no signal came within its timeout."""
    message = ir.protocol.gate_timeout_message(gate.gate, gate.name, gate.seconds)
    return TaskFailedError(message, node=gate.id, error_type=ir.protocol.GATE_TIMEOUT)


def gate_rejected(gate: ir.GateNode) -> TaskFailedError:
    """The error of an ``approve`` gate whose signal said no."""
    return TaskFailedError(
        ir.protocol.gate_rejected_message(gate.name), node=gate.id, error_type=ir.protocol.GATE_REJECTED
    )


def finish_gate(ctx: NodeContext, gate: ir.GateNode, body: bytes) -> None:
    """Store the gate's output from its signal (``body``), or raise if an approval was rejected."""
    signal: dict[str, Any] = json.loads(body)
    if gate.gate == "approve":
        if signal.get("approved") is not True:
            raise gate_rejected(gate)
        assert gate.type is not None  # noqa: S101 - lowering sets an approve gate's type
        ctx.outputs.write_outputs(gate.id, {OUTPUT: resolve_binding(ctx, gate.inputs["value"], gate.type)})
        return
    ctx.outputs.write_outputs(gate.id, {OUTPUT: LiteralRef.from_json(signal["value"])})


def wait_local_signal(home: Path, ctx: NodeContext, gate: ir.GateNode, *, poll_seconds: float = 0.1) -> None:
    """A local run's gate: wait (polling) for its signal file, then finish it; time out as on AWS."""
    announce_local_gate(home, ctx.workflow, ctx.run_id, gate)
    path = home / ir.protocol.signal_key(ctx.workflow, ctx.run_id, gate.name)
    deadline = time.monotonic() + gate.seconds
    while not path.is_file():
        if time.monotonic() >= deadline or ctx.cancelled.is_set():
            raise gate_timed_out(gate)
        time.sleep(poll_seconds)
    finish_gate(ctx, gate, path.read_bytes())


def waiting_gate(home: Path, workflow: str, run_id: str, name: str) -> ir.GateNode:
    """The gate of local run ``run_id`` of ``workflow`` waiting for signal ``name`` (InputError when none is)."""
    path = home / ir.protocol.gate_token_key(workflow, run_id, name)
    if not path.is_file():
        raise InputError(f"run {run_id} has no gate waiting for signal '{name}'", input_name=name)
    return ir.GateNode.model_validate_json(ir.protocol.GateRecord.model_validate_json(path.read_bytes()).node)


def send_local_signal(home: Path, workflow: str, run_id: str, name: str, body: bytes) -> None:
    """Deliver a signal to a local run (written whole, then renamed: the run never reads half of it)."""
    _write_whole(home / ir.protocol.signal_key(workflow, run_id, name), body)


def _write_whole(path: Path, body: bytes) -> None:
    # Written aside, then renamed: a reader in another process never sees half of it.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(body)
    partial.replace(path)


def announce_local_gate(home: Path, workflow: str, run_id: str, gate: ir.GateNode) -> None:
    """Say that run ``run_id`` waits at ``gate``: what `stratoflow signal` reads to find the run and the
    gate's type (on AWS the runner stores it with the token; a sandbox run's gates are announced here too)."""
    _write_whole(
        home / ir.protocol.gate_token_key(workflow, run_id, gate.name),
        ir.protocol.GateRecord(node=gate.model_dump_json()).model_dump_json().encode(),
    )
