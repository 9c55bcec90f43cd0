"""``flytekit.core.hash``: ``HashMethod``."""

from stratoflow.define._hash_method import HashMethod

__all__ = ["HashMethod"]
