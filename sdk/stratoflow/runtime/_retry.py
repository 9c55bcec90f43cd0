"""The retry delay every backend uses, mirroring the compiled ASL ``Retry``.

Step Functions retries with ``IntervalSeconds=1, BackoffRate=2, JitterStrategy=FULL``:
attempt ``n`` waits a uniform random time in ``[0, base * 2**(n-1))``.
"""

from __future__ import annotations

import random

__all__ = ["backoff_seconds"]


def backoff_seconds(attempt: int, base_seconds: float = 1.0) -> float:
    """How long to wait after failed attempt ``attempt`` (1-based) before the next one."""
    return random.uniform(0, base_seconds * 2 ** (attempt - 1))  # noqa: S311 - jitter, not crypto
