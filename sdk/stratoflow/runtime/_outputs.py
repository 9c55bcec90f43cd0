"""Where a run keeps workflow inputs and node outputs (as literal references)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from stratoflow.values import ItemResult, LiteralRef

__all__ = ["InMemoryOutputStore", "OutputStore"]


class OutputStore(Protocol):
    """Per-run storage of literals: memory locally, ``runs/<workflow>/<run>/...`` objects in S3 on AWS."""

    def read_inputs(self) -> dict[str, LiteralRef]: ...

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]: ...

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None: ...


class InMemoryOutputStore:
    """The local executor's store: dicts guarded by a lock (map items included)."""

    def __init__(self, inputs: dict[str, LiteralRef]) -> None:
        self._inputs = inputs
        self._outputs: dict[str, dict[str, LiteralRef]] = {}
        self._map_inputs: dict[str, Sequence[dict[str, LiteralRef]]] = {}
        self._map_results: dict[str, dict[int, ItemResult]] = {}
        self._lock = threading.Lock()

    def write_map_inputs(self, node_id: str, items: Sequence[dict[str, LiteralRef]]) -> None:
        with self._lock:
            self._map_inputs[node_id] = items
            self._map_results[node_id] = {}

    def read_map_inputs(self, node_id: str, indices: Sequence[int]) -> dict[int, dict[str, LiteralRef]]:
        items = self._map_inputs[node_id]
        return {i: items[i] for i in indices}

    def write_map_results(self, node_id: str, results: dict[int, ItemResult]) -> None:
        with self._lock:
            self._map_results[node_id].update(results)

    def read_map_results(self, node_id: str, count: int) -> dict[int, ItemResult]:
        with self._lock:
            return dict(self._map_results[node_id])

    def read_map_batch(self, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
        with self._lock:
            stored = self._map_results[node_id]
            return {i: stored[i] for i in indices if i in stored}

    def map_count(self, node_id: str) -> int:
        return len(self._map_inputs[node_id])

    def read_inputs(self) -> dict[str, LiteralRef]:
        return self._inputs

    def finished(self) -> tuple[dict[str, dict[str, LiteralRef]], dict[str, dict[int, ItemResult]]]:
        """Every node's outputs so far, and every map's item results (what a recovery reuses)."""
        with self._lock:
            return dict(self._outputs), {n: dict(r) for n, r in self._map_results.items()}

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]:
        with self._lock:
            return self._outputs[node_id]

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None:
        with self._lock:
            self._outputs[node_id] = outputs
