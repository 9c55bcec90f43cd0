"""Where a run keeps workflow inputs and node outputs (as literal references)."""

from __future__ import annotations

import threading
from typing import Protocol

from stratoflow.values import LiteralRef

__all__ = ["InMemoryOutputStore", "OutputStore"]


class OutputStore(Protocol):
    """Per-run storage of literals: memory locally, ``runs/<run>/...`` objects in S3 on AWS."""

    def read_inputs(self) -> dict[str, LiteralRef]: ...

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]: ...

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None: ...


class InMemoryOutputStore:
    """The local executor's store: a dict guarded by a lock."""

    def __init__(self, inputs: dict[str, LiteralRef]) -> None:
        self._inputs = inputs
        self._outputs: dict[str, dict[str, LiteralRef]] = {}
        self._lock = threading.Lock()

    def read_inputs(self) -> dict[str, LiteralRef]:
        return self._inputs

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]:
        with self._lock:
            return self._outputs[node_id]

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None:
        with self._lock:
            self._outputs[node_id] = outputs
