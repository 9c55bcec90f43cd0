"""Launch plans: a nightly report on a cron schedule in Berlin time, an hourly refresh on a fixed
rate, and an email when a nightly run fails (Flyte's names: ``LaunchPlan``, ``CronSchedule``,
``FixedRate``, ``Email``).

    stratoflow run examples/scheduled.py nightly_report            # day = now, region fixed
    stratoflow run examples/scheduled.py nightly_report --top 5    # a default overridden
    stratoflow run examples/scheduled.py hourly_refresh

Deployed (``-c 'stratoflow:workflows=["examples/scheduled.py:nightly_report", ...]'``), each
plan is an EventBridge Scheduler schedule; the scheduled time fills ``day``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from stratoflow import CronSchedule, Email, FixedRate, LaunchPlan, WorkflowExecutionPhase, task, workflow


@task
def totals(day: datetime, region: str, top: int) -> list[str]:
    """Stand-in for a day's sales query: deterministic in its inputs."""
    stamp = day.strftime("%Y-%m-%d")
    return [f"{region}-{stamp}-{rank}" for rank in range(1, top + 1)]


@task
def render(lines: list[str], day: datetime) -> str:
    return f"report for {day.isoformat()}: " + ", ".join(lines)


@workflow
def daily_report(day: datetime, region: str, top: int = 3) -> str:
    return render(lines=totals(day=day, region=region, top=top), day=day)


nightly_report = LaunchPlan.get_or_create(
    daily_report,
    name="nightly_report",
    fixed_inputs={"region": "eu"},
    default_inputs={"top": 3},
    schedule=CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg="day", timezone="Europe/Berlin"),
    notifications=[
        Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["data-oncall@example.com"])
    ],
)

hourly_refresh = LaunchPlan.get_or_create(
    daily_report,
    name="hourly_refresh",
    fixed_inputs={"region": "us"},
    schedule=FixedRate(duration=timedelta(hours=1), kickoff_time_input_arg="day"),
)
