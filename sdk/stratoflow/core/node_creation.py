"""``flytekit.core.node_creation``: ``create_node``."""

from stratoflow.define import create_node

__all__ = ["create_node"]
