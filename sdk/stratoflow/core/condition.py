"""``flytekit.core.condition``: ``conditional``."""

from stratoflow.define._condition import conditional

__all__ = ["conditional"]
