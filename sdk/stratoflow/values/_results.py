"""The outcome of one map item, as every map store keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field

from stratoflow.values._codec import LiteralRef

__all__ = ["ItemResult"]


@dataclass(frozen=True)
class ItemResult:
    """One item's outcome: its output literal, or the error that made it fail."""

    output: LiteralRef | None = None
    error: str | None = None
    error_type: str | None = None
    cache_hit: bool = False
    # What the item's record shows (``ir.NodeRecord``): attempts made, when it ran, its cache key.
    # Not compared: two results are equal by their outcome, whenever and however often they ran.
    attempts: int = field(default=0, compare=False)
    started: float | None = field(default=None, compare=False)
    finished: float | None = field(default=None, compare=False)
    cache_key: str | None = field(default=None, compare=False, repr=False)
    # The item's exception, kept in memory only (local runs chain it as the node's cause).
    exception: BaseException | None = field(default=None, compare=False, repr=False)
