"""flytekit's ``HashMethod``: ``Annotated[pd.DataFrame, HashMethod(fn)]`` on a task's output.

Flyte keys an offloaded value (a DataFrame, a file) by its storage location, so a downstream
cached task misses on every run unless the output names a hash function. stratoflow keys every
value by the sha256 of its contents already (a frame by its Parquet bytes, deterministic for a
given pandas and pyarrow), so the annotation is accepted and the contents' hash is used: the same
frame hits the cache whether or not its output says ``HashMethod``, and two different frames never
share a key, whatever a hash function would say of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["HashMethod"]

T = TypeVar("T")


class HashMethod(Generic[T]):
    """A hash function for values of ``T`` (flytekit's; see the module for what stratoflow keys on).

    Example:
        >>> HashMethod(lambda frame: "same").calculate(object())
        'same'
    """

    def __init__(self, function: Callable[[T], str]) -> None:
        self._function = function

    def calculate(self, obj: T) -> str:
        """The function's hash of ``obj``."""
        return self._function(obj)

    def __repr__(self) -> str:
        name: Any = getattr(self._function, "__name__", self._function)
        return f"HashMethod({name})"
