"""``flytekit.core.workflow``: ``workflow``, ``WorkflowFailurePolicy``, ``ImperativeWorkflow``."""

from stratoflow.define import WorkflowFailurePolicy, workflow
from stratoflow.define._imperative import ImperativeWorkflow

__all__ = ["ImperativeWorkflow", "WorkflowFailurePolicy", "workflow"]
