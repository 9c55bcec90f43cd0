"""``flytekit.core.task``: ``task`` and ``Echo``."""

from stratoflow.define import task
from stratoflow.define._echo import Echo

__all__ = ["Echo", "task"]
