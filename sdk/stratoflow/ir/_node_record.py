"""The per-node record of a run: what ``executions show``, ``stratoflow logs`` and the web UI read.

One contract for every backend. A local run writes one record per node (and per map item)
into its run history; on AWS the runner writes the same JSON beside the node's outputs
(:func:`node_record_key`), and the client fills in what only the execution history knows
(a state that failed before the runner ran, a timeout). Readers never see a backend's
private shape, only :class:`NodeRecord`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from stratoflow.ir._node_status import (  # re-exported: the records' one contract
    NodeStatus,
    Target,
    node_log_key,
    node_record_key,
    node_records_prefix,
)

__all__ = [
    "LogLocation",
    "NodeRecord",
    "NodeStatus",
    "Target",
    "node_log_key",
    "node_record_key",
    "node_records_prefix",
]


class LogLocation(BaseModel):
    """Where a node's log lines are: a local file, or a CloudWatch log group and stream."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    kind: Literal["file", "cloudwatch"]
    path: str | None = None  # kind == "file"
    group: str | None = None  # kind == "cloudwatch"
    stream: str | None = (
        None  # kind == "cloudwatch"; None: not known yet (the group's newest streams are searched)
    )


class NodeRecord(BaseModel):
    """One node, or one item of a map node (``item`` set), of one run."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    run_id: str
    node: str  # the node id as in the spec; a @dynamic's children as "<parent>/<child>"
    item: int | None = None  # the map item's index; None for the node itself (a map's summary row)
    status: NodeStatus
    attempts: int = 0  # attempts made (1 for a first-try success, 0 for cached or skipped)
    started: float | None = None  # epoch seconds
    finished: float | None = None
    target: Target = "none"
    cache_key: str | None = None
    cache_hit: bool = False
    error: str | None = None  # the one-line message, the same text locally and on AWS
    traceback: str | None = None  # the user's traceback (user frames only), when the user's code raised
    logs: LogLocation | None = None
    deck: str | None = None  # where the node's Deck HTML is, if it wrote one
