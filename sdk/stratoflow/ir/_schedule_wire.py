"""The schedule part of the wire contract: what a schedule delivers and what its starter knows.

An EventBridge Scheduler schedule invokes the schedule starter with :class:`ScheduledStart`
(its ``Input``, built by :func:`scheduled_start_input`, with Scheduler's scheduled-time context
attribute in it); the starter looks the plan up in ``ENV_LAUNCH_PLANS`` (a JSON list of
:class:`ScheduledPlan`) and starts the run ``scheduled_run_id(plan, scheduled_time)``.
Spelled ``protocol.<name>`` (re-exported by ``ir._protocol``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, JsonValue

from stratoflow.ir._names import SCHEDULED_TIME_ATTRIBUTE

__all__ = ["ScheduledPlan", "ScheduledStart", "scheduled_plans_json", "scheduled_start_input"]


class ScheduledStart(BaseModel):
    """The event a schedule delivers: which plan, and the occurrence it is for."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    plan: str
    scheduled_time: str


class ScheduledPlan(BaseModel):
    """One scheduled plan as the stack deploys it: the state machine, the workflow's IR key, the
    plan's inputs (JSON forms) and the input the scheduled time fills."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: str
    workflow: str
    state_machine_arn: str
    spec_key: str
    inputs: dict[str, JsonValue] = {}
    kickoff_input: str | None = None


def scheduled_start_input(plan: str) -> str:
    """A schedule's target ``Input``: the plan's name and Scheduler's scheduled time, filled per delivery."""
    return json.dumps({"plan": plan, "scheduled_time": SCHEDULED_TIME_ATTRIBUTE}, separators=(",", ":"))


def scheduled_plans_json(plans: Sequence[ScheduledPlan]) -> str:
    """``ENV_LAUNCH_PLANS`` for a list of plans (compact: Lambda environments are small)."""
    return json.dumps([p.model_dump() for p in plans], separators=(",", ":"))
