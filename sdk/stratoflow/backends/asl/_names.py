"""Deterministic, valid and unique Step Functions state names.

A state name is at most 80 characters of ``[A-Za-z0-9_-]`` (a safe subset of what Step
Functions allows) and unique across the whole definition, Parallel branches included, so
that execution history and the console read like the workflow's node ids.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_STATE_NAME", "StateNames", "sanitize"]

MAX_STATE_NAME = 80
_INVALID = re.compile(r"[^A-Za-z0-9_-]")


def sanitize(text: str, *, max_len: int = MAX_STATE_NAME) -> str:
    """Replace unsafe characters with ``_`` and shorten to ``max_len`` keeping a hash suffix.

    Example:
        >>> sanitize("prep.data step")
        'prep_data_step'
    """
    clean = _INVALID.sub("_", text) or "_"
    if len(clean) <= max_len:
        return clean
    # A hash of the original keeps two long ids with a shared prefix apart.
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{clean[: max_len - 9]}_{digest}"


class StateNames:
    """Hands out unique state names in call order, so equal IR gives equal names.

    Example:
        >>> names = StateNames()
        >>> names.claim("a"), names.claim("a"), names.claim("a", suffix="__cache")
        ('a', 'a_2', 'a__cache')
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, base: str, *, suffix: str = "") -> str:
        """Return a fresh name ``<base><suffix>``, shortened and numbered when needed."""
        n = 1
        while True:
            tail = suffix if n == 1 else f"{suffix}_{n}"
            name = sanitize(base, max_len=MAX_STATE_NAME - len(tail)) + tail
            if name not in self._taken:
                self._taken.add(name)
                return name
            n += 1
