"""The vocabulary of a run's node records, without their pydantic models (``_node_record``): a
node's status, where an attempt ran, and where records and logs are kept. A local run writes
records with these alone; the models load only where records are read back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from stratoflow.ir._storage import run_prefix

__all__ = ["NodeStatus", "Target", "node_log_key", "node_record_key", "node_records_prefix"]


class NodeStatus(StrEnum):
    """Where a node (or one map item) stands. ``cached`` is a success served from the cache."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"  # in a conditional's case that was not taken, or never reached


Target = Literal[
    "local-thread", "local-process", "actor", "lambda", "fargate", "fargate-spot", "batch", "none"
]
"""Where an attempt ran: ``none`` for nodes that run no user code (a gate, a skipped node, a map's parent)."""


def node_records_prefix(workflow: str, run_id: str) -> str:
    """The bucket prefix under which a remote run's node records are kept."""
    return f"{run_prefix(workflow, run_id)}records/"


def node_record_key(workflow: str, run_id: str, node: str, item: int | None = None) -> str:
    """Where the runner writes ``node``'s record (or map item ``item``'s) of a remote run."""
    suffix = "" if item is None else f"/items/{item}"
    return f"{node_records_prefix(workflow, run_id)}{node}{suffix}.json"


def node_log_key(run_id: str, node: str, item: int | None = None) -> str:
    """Where a local run keeps ``node``'s log (or map item ``item``'s), under the STRATOFLOW home
    (local only: remote logs are in CloudWatch, so no workflow prefix scopes a grant here)."""
    suffix = "" if item is None else f"/items/{item}"
    return f"logs/{run_id}/{node}{suffix}.log"
