"""``flytekit.core.launch_plan``: ``LaunchPlan``."""

from stratoflow.define._launch_plan import LaunchPlan

__all__ = ["LaunchPlan"]
