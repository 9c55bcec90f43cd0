"""Start the run a schedule's occurrence asks for, exactly once per occurrence.

EventBridge Scheduler delivers at least once and cannot name the executions it starts (its
universal ``states:startExecution`` target has no name), so a small starter does: the run id
is ``protocol.scheduled_run_id(plan, scheduled_time)``, the same for every retry of one
occurrence, so a duplicate asks Step Functions for an execution that exists and starts
nothing. The run starts as ``Client.submit``'s do (``start_run``, ``once``): the plan's
inputs, with the scheduled time in the plan's kickoff input, written only if absent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stratoflow import ir
from stratoflow.client._start import start_run
from stratoflow.client._triggers import load_spec
from stratoflow.errors import ConfigError
from stratoflow.ir import protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["ScheduleOutcome", "ScheduleSettings", "start_scheduled_run"]


@dataclass(frozen=True)
class ScheduleSettings:
    """The schedule starter's settings from its environment (read per invocation)."""

    bucket: str
    plans: dict[str, protocol.ScheduledPlan]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ScheduleSettings:
        missing = [n for n in (protocol.ENV_BUCKET, protocol.ENV_LAUNCH_PLANS) if not environ.get(n)]
        if missing:
            raise ConfigError(f"schedule starter settings missing from the environment: {', '.join(missing)}")
        try:
            raw = json.loads(environ[protocol.ENV_LAUNCH_PLANS])
            plans = [protocol.ScheduledPlan.model_validate(item) for item in raw]
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{protocol.ENV_LAUNCH_PLANS} is not a JSON list of launch plans: {exc}"
            ) from exc
        return cls(bucket=environ[protocol.ENV_BUCKET], plans={p.plan: p for p in plans})


@dataclass(frozen=True)
class ScheduleOutcome:
    """What one delivery did: ``started`` (``execution_arn`` set), or ``duplicate`` (the occurrence's
    execution exists: a retried or repeated delivery)."""

    plan: str
    run_id: str
    status: Literal["started", "duplicate"]
    execution_arn: str | None = None


def start_scheduled_run(
    event: protocol.ScheduledStart, settings: ScheduleSettings, *, s3: S3Client, sfn: SFNClient
) -> ScheduleOutcome:
    """Start ``event``'s occurrence of its plan, once; a plan the stack does not schedule is a ``ConfigError``.

    Example:
        >>> start_scheduled_run(protocol.ScheduledStart(plan="nightly", scheduled_time="2026-12-01T03:00:00Z"),
        ...     settings, s3=s3, sfn=sfn)  # doctest: +SKIP
        ScheduleOutcome(plan='nightly', run_id='nightly-20261201T030000Z', status='started', ...)
    """
    plan = settings.plans.get(event.plan)
    if plan is None:
        raise ConfigError(
            f"schedule for launch plan {event.plan!r}, which this starter does not start "
            f"(it starts: {', '.join(sorted(settings.plans)) or 'none'})"
        )
    run_id = protocol.scheduled_run_id(plan.plan, event.scheduled_time)
    inputs: dict[str, ir.JsonValue] = dict(plan.inputs)
    if plan.kickoff_input is not None:
        inputs[plan.kickoff_input] = event.scheduled_time
    started = start_run(
        s3=s3,
        sfn=sfn,
        bucket=settings.bucket,
        state_machine_arn=plan.state_machine_arn,
        workflow=plan.workflow,
        run_id=run_id,
        spec=lambda: load_spec(s3, settings.bucket, plan.spec_key),
        inputs=inputs,
        once=True,
    )
    if started.execution_arn is None:
        return ScheduleOutcome(plan.plan, run_id, "duplicate")
    return ScheduleOutcome(plan.plan, run_id, "started", execution_arn=started.execution_arn)
