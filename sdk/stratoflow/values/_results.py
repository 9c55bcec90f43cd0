"""The outcome of one map item, as every map store keeps it."""

from __future__ import annotations

from stratoflow.values._codec import LiteralRef

__all__ = ["ItemResult"]


class ItemResult:
    """One item's outcome: its output literal, or the error that made it fail.

    Two results are equal by their outcome (output, error, whether cached), whenever and however
    often they ran. A plain class, not a frozen dataclass: one is made for every map item, and it
    is defined in every process that runs a map.
    """

    __slots__ = (
        "attempts",
        "cache_hit",
        "cache_key",
        "error",
        "error_type",
        "exception",
        "finished",
        "output",
        "started",
    )

    def __init__(
        self,
        *,
        output: LiteralRef | None = None,
        error: str | None = None,
        error_type: str | None = None,
        cache_hit: bool = False,
        attempts: int = 0,
        started: float | None = None,
        finished: float | None = None,
        cache_key: str | None = None,
        exception: BaseException | None = None,
    ) -> None:
        self.output = output
        self.error = error
        self.error_type = error_type
        self.cache_hit = cache_hit
        # What the item's record shows (``ir.NodeRecord``): attempts made, when it ran, its cache key.
        self.attempts = attempts
        self.started = started
        self.finished = finished
        self.cache_key = cache_key
        # The item's exception, kept in memory only (local runs chain it as the node's cause).
        self.exception = exception

    def _outcome(self) -> tuple[LiteralRef | None, str | None, str | None, bool]:
        return (self.output, self.error, self.error_type, self.cache_hit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ItemResult):
            return NotImplemented
        return self._outcome() == other._outcome()

    def __hash__(self) -> int:
        return hash(self._outcome())

    def __repr__(self) -> str:
        return (
            f"ItemResult(output={self.output!r}, error={self.error!r}, error_type={self.error_type!r}, "
            f"cache_hit={self.cache_hit!r}, attempts={self.attempts!r}, started={self.started!r}, "
            f"finished={self.finished!r})"
        )
