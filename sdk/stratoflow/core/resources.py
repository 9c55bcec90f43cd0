"""``flytekit.core.resources``: ``Resources``."""

from stratoflow.define import Resources

__all__ = ["Resources"]
