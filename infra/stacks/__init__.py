"""Stacks: compose the constructs and wire least-privilege grants."""

from infra.stacks.settings import StackSettings, WorkflowSource
from infra.stacks.stratoflow_stack import StratoflowStack

__all__ = ["StackSettings", "StratoflowStack", "WorkflowSource"]
