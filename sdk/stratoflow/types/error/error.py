"""``flytekit.types.error.error``: ``FlyteError``."""

from stratoflow.define import FlyteError

__all__ = ["FlyteError"]
