"""IR of launch plans: a workflow with saved inputs, an optional schedule and notifications.

A launch plan is data about how to start a workflow, not part of its graph, so it has its
own models beside ``WorkflowSpec`` (which stays what every backend compiles). Inputs are
the JSON forms ``constant_to_json`` makes (what ``--inputs JSON`` takes), so a starter
validates and encodes them exactly as it does a hand-started run's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from stratoflow.ir._models import SourceLocation
from stratoflow.ir._notifications import TERMINAL_PHASES, NotificationSpec, Phase

__all__ = ["TERMINAL_PHASES", "LaunchPlanSpec", "NotificationSpec", "Phase", "ScheduleSpec"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ScheduleSpec(_Model):
    """When a plan starts: a five-field cron expression (``kind="cron"``, minute hour day-of-month
    month day-of-week, Unix spelling; ``"aws_cron"``: six fields, AWS spelling) in ``timezone``, or
    every ``rate_minutes`` (``kind="rate"``).
    ``kickoff_input`` names the ``datetime`` input that gets the scheduled time."""

    kind: Literal["cron", "aws_cron", "rate"]
    cron: str | None = None
    rate_minutes: int | None = None
    timezone: str = "UTC"
    kickoff_input: str | None = None


class LaunchPlanSpec(_Model):
    """A launch plan as deployed: the workflow it starts and everything it starts it with.

    ``fixed_inputs`` can never be overridden; ``default_inputs`` are the plan's defaults
    (the workflow's own defaults apply to inputs in neither).
    """

    name: str
    workflow: str
    fixed_inputs: dict[str, JsonValue] = {}
    default_inputs: dict[str, JsonValue] = {}
    schedule: ScheduleSpec | None = None
    notifications: tuple[NotificationSpec, ...] = ()
    location: SourceLocation

    def inputs(self) -> dict[str, JsonValue]:
        """The inputs a start without overrides uses (defaults, then fixed)."""
        return {**self.default_inputs, **self.fixed_inputs}
