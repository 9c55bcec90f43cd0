"""Retries every backend uses, mirroring the compiled ASL ``Retry``.

Step Functions retries with ``IntervalSeconds=1, BackoffRate=2, JitterStrategy=FULL``:
attempt ``n`` waits a uniform random time in ``[0, base * 2**(n-1))``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from stratoflow.errors import TaskFailedError

__all__ = ["backoff_seconds", "with_attempts"]

T = TypeVar("T")


def backoff_seconds(attempt: int, base_seconds: float = 1.0) -> float:
    """How long to wait after failed attempt ``attempt`` (1-based) before the next one."""
    return random.uniform(0, base_seconds * 2 ** (attempt - 1))  # noqa: S311 - jitter, not crypto


def with_attempts(attempt_fn: Callable[[int], T], *, retries: int, base_seconds: float = 1.0) -> T:
    """Call ``attempt_fn(attempt)`` for attempts 1..``retries + 1`` until one does not raise
    :class:`TaskFailedError`, backing off between them; the last failure is raised."""
    attempt = 1
    while True:
        try:
            return attempt_fn(attempt)
        except TaskFailedError:
            if attempt > retries:
                raise
            time.sleep(backoff_seconds(attempt, base_seconds))
            attempt += 1
