"""Retries (any exception, exponential backoff with full jitter) and timeouts, as on AWS.

Step Functions retries a failed state with ``IntervalSeconds=1, BackoffRate=2,
JitterStrategy=FULL`` and stops it at ``TimeoutSeconds``; this module does the same where no
state does it: in local runs, and for the nodes of a ``@dynamic`` graph on AWS, whose retries
run in the runner (Lambda or the container). So a workflow behaves alike everywhere.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from stratoflow.errors import TaskTimeoutError
from stratoflow.runtime._context import NodeContext
from stratoflow.runtime._retry import with_attempts

__all__ = ["timeout_error", "with_retries"]

T = TypeVar("T")


def timeout_error(label: str, timeout: int, attempt: int) -> TaskTimeoutError:
    """The error of an attempt that ran past ``timeout`` (one text, in a thread or on an actor)."""
    return TaskTimeoutError(
        f"node '{label}' timed out after {timeout}s (attempt {attempt})",
        node=label,
        attempt=attempt,
        error_type="States.Timeout",
    )


def _with_timeout(
    ctx: NodeContext, attempt_fn: Callable[[NodeContext], T], timeout: int | None, label: str, attempt: int
) -> T:
    if timeout is None:
        return attempt_fn(ctx)
    # Python cannot kill a thread: a timed-out attempt is abandoned and told (via its own
    # cancelled event) to write no outputs and no cache entry if it ever finishes.
    attempt_ctx = ctx.abandonable()
    box: dict[str, T | BaseException] = {}

    def target() -> None:
        try:
            box["result"] = attempt_fn(attempt_ctx)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"stratoflow-{label}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        attempt_ctx.cancelled.set()
        raise timeout_error(label, timeout, attempt)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _call_attempt(attempt_fn: Callable[[NodeContext, int], T], attempt: int, ctx: NodeContext) -> T:
    return attempt_fn(ctx, attempt)


def with_retries(
    ctx: NodeContext,
    attempt_fn: Callable[[NodeContext, int], T],
    *,
    retries: int,
    timeout: int | None,
    label: str,
    base_seconds: float,
) -> T:
    """Run ``attempt_fn`` up to ``retries + 1`` times."""
    return with_attempts(
        lambda attempt: _with_timeout(
            ctx, functools.partial(_call_attempt, attempt_fn, attempt), timeout, label, attempt
        ),
        retries=retries,
        base_seconds=base_seconds,
    )
