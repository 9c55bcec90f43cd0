"""The wire contract of Flyte's gates and failure node (``wait_for_input``, ``approve``): where a run's signals and
its waiting gates' task tokens are kept (the same keys under a local home and in the bucket),
the ``Error`` names of a gate that timed out or was rejected, and their messages (one text,
locally and on AWS).
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import BaseModel, ConfigDict

from stratoflow.ir._storage import run_prefix

__all__ = [
    "FAILURE_NODE",
    "GATE_REJECTED",
    "GATE_TIMEOUT",
    "SIGNAL_NAME",
    "STATES_TIMEOUT",
    "GateRecord",
    "gate_rejected_message",
    "gate_timeout_message",
    "gate_token_key",
    "signal_key",
]

FAILURE_NODE: Final = "~failure"
"""The pseudo node whose output ``err`` is the run's error (a FlyteError), read by an on_failure
task that declares ``err``; no real node id has a ``~``."""

STATES_TIMEOUT: Final = "States.Timeout"
"""What a state past its ``TimeoutSeconds`` raises (a gate's wait: caught, it fails as GATE_TIMEOUT)."""

GATE_TIMEOUT: Final = "Sdk.GateTimeout"
"""Error of a gate that got no signal within its timeout."""

GATE_REJECTED: Final = "Sdk.GateRejected"
"""Error of an ``approve`` gate rejected by ``stratoflow approve --reject``."""

SIGNAL_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
"""A signal's name is a key segment: letters, digits, ``_`` and ``-``."""


class GateRecord(BaseModel):
    """What a waiting gate leaves under :func:`gate_token_key`: its task token (AWS) and its node."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    token: str | None = None
    node: str  # the GateNode's JSON: the signal's name and type


def signal_key(workflow: str, run_id: str, name: str) -> str:
    """Where ``stratoflow signal`` / ``approve`` put signal ``name`` of a run (``{"value": ...}``)."""
    return f"{run_prefix(workflow, run_id)}signals/{name}.json"


def gate_token_key(workflow: str, run_id: str, name: str) -> str:
    """Where the runner keeps the task token of the run's gate waiting for signal ``name`` (AWS)."""
    return f"{run_prefix(workflow, run_id)}gates/{name}.json"


def gate_timeout_message(gate: str, name: str, seconds: int) -> str:
    """What a gate that timed out fails with."""
    what = "approval" if gate == "approve" else "input"
    return f"{what} '{name}' got no signal within {seconds}s (timed out)"


def gate_rejected_message(name: str) -> str:
    """What a rejected ``approve`` gate fails with."""
    return f"approval '{name}' was rejected"
