"""``flytekit.types.error``: ``FlyteError``, what an ``on_failure`` task gets as ``err``."""

from stratoflow.define import FlyteError

__all__ = ["FlyteError"]
