"""Recovery (Flyte's ``recover``): a new run of a failed one that reuses what already succeeded.

A :class:`Recovery` lists, from the failed run, the outputs of every node that finished and of every map
item that succeeded (cached or not). The recovered run has the failed run's inputs; wherever a node
would run, the runner first asks :func:`recovered_outputs` (a task node, a Fargate node's cache check,
and, locally, any node) and :func:`recovered_items` (a map's items), and reuses what it finds without
calling the user's function. Everything else runs as usual, with the code as it is now (the fix).

The same record serves every backend: locally it is built from the failed run's snapshot in the home,
on AWS from its node outputs and map results in the bucket, and stored under the new run
(``_storage.recovery_key``), where the runner reads it once per run and process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from stratoflow.values import ItemResult, LiteralRef

__all__ = ["Recovery", "recovered_items", "recovered_outputs", "recovered_run_id"]


_NOTHING: Mapping[Any, Any] = MappingProxyType({})  # an immutable default: shared by every record


# A NamedTuple, not a frozen dataclass: its module loads with every run, and a tuple is cheaper
# to define.
class Recovery(NamedTuple):
    """What a recovered run reuses from run ``source``.

    Attributes:
        source: The failed run's id.
        nodes: Node id -> its outputs, for every node that finished in ``source``.
        items: Map node id -> item index -> the item's output, for the items that succeeded in a map
            node that did not finish.
    """

    source: str
    nodes: Mapping[str, Mapping[str, LiteralRef]] = _NOTHING
    items: Mapping[str, Mapping[int, LiteralRef | None]] = _NOTHING

    def to_json(self) -> bytes:
        """The record as stored: JSON with literal references only (never values of secrets or blobs)."""
        body = {
            "source": self.source,
            "nodes": {n: {k: v.to_json() for k, v in out.items()} for n, out in self.nodes.items()},
            "items": {
                n: {str(i): None if lit is None else lit.to_json() for i, lit in found.items()}
                for n, found in self.items.items()
            },
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Recovery:
        raw: dict[str, Any] = json.loads(data)
        return cls(
            source=str(raw["source"]),
            nodes={
                n: {k: LiteralRef.from_json(v) for k, v in out.items()} for n, out in raw["nodes"].items()
            },
            items={
                n: {int(i): None if lit is None else LiteralRef.from_json(lit) for i, lit in found.items()}
                for n, found in raw["items"].items()
            },
        )

    @classmethod
    def of(
        cls,
        source: str,
        nodes: Mapping[str, Mapping[str, LiteralRef]],
        map_results: Mapping[str, Mapping[int, ItemResult]],
    ) -> Recovery:
        """From a failed run's finished nodes and its maps' item results (failed items left out)."""
        items = {
            node: {i: r.output for i, r in results.items() if r.error is None}
            for node, results in map_results.items()
            if node not in nodes
        }
        return cls(source=source, nodes=dict(nodes), items={n: found for n, found in items.items() if found})

    @property
    def reused(self) -> int:
        """How many nodes and map items the recovered run reuses."""
        return len(self.nodes) + sum(len(found) for found in self.items.values())


def recovered_outputs(recovery: Recovery | None, node_id: str) -> dict[str, LiteralRef] | None:
    """The outputs node ``node_id`` had in the failed run, or ``None`` (run it)."""
    if recovery is None:
        return None
    found = recovery.nodes.get(node_id)
    return None if found is None else dict(found)


def recovered_items(recovery: Recovery | None, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
    """The items of map ``node_id`` at ``indices`` that succeeded in the failed run, as results to reuse."""
    if recovery is None:
        return {}
    found = recovery.items.get(node_id)
    if not found:
        return {}
    return {i: ItemResult(output=found[i], cache_hit=True) for i in indices if i in found}


def recovered_run_id(source: str) -> str:
    """A recovered run's id: the failed run's, ``-r`` and a fresh suffix (an execution name on AWS too)."""
    return f"{source[:60]}-r{uuid.uuid4().hex[:8]}"
