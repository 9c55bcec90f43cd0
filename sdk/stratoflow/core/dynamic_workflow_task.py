"""``flytekit.core.dynamic_workflow_task``: ``dynamic``."""

from stratoflow.define import dynamic

__all__ = ["dynamic"]
