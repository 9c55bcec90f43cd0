"""``flytekit.core.context_manager``: ``FlyteContextManager``, ``FlyteContext``."""

from stratoflow.define._context_manager import FlyteContext, FlyteContextManager

__all__ = ["FlyteContext", "FlyteContextManager"]
