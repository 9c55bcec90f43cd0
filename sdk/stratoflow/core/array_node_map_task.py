"""``flytekit.core.array_node_map_task``: ``map_task``."""

from stratoflow.define import map_task

__all__ = ["map_task"]
