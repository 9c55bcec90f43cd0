"""Schedule expressions for EventBridge Scheduler, and the run ids scheduled runs get."""

from __future__ import annotations

import re

import pytest

from stratoflow import ir
from stratoflow.backends.scheduler import schedule_expression
from stratoflow.define._schedules import cron_problem
from stratoflow.ir import protocol


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 * * * *", "cron(0 * * * ? *)"),
        ("0 3 * * *", "cron(0 3 * * ? *)"),
        ("30 2 1 * *", "cron(30 2 1 * ? *)"),
        ("0 3 * * 1-5", "cron(0 3 ? * 2-6 *)"),  # Unix Mon-Fri is Scheduler's 2-6
        ("0 3 * * 0", "cron(0 3 ? * 1 *)"),  # Sunday: 0 in Unix, 1 in Scheduler
        ("0 3 * * 7", "cron(0 3 ? * 1 *)"),  # Sunday again (Unix allows 7)
        ("0 3 * * 1,3,5", "cron(0 3 ? * 2,4,6 *)"),
        ("0 3 * * 5-7", "cron(0 3 ? * 6-7,1 *)"),  # Fri-Sun, Sunday written 7
        ("0 3 * * 0-7", "cron(0 3 ? * 1-7 *)"),
        ("0 3 * * MON-FRI", "cron(0 3 ? * MON-FRI *)"),
        ("*/15 9-17 * JAN,JUL *", "cron(*/15 9-17 * JAN,JUL ? *)"),
    ],
)
def test_unix_cron_becomes_scheduler_cron(cron: str, expected: str) -> None:
    assert cron_problem(cron) is None
    assert schedule_expression(ir.ScheduleSpec(kind="cron", cron=cron)) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, "rate(1 minute)"),
        (45, "rate(45 minutes)"),
        (60, "rate(1 hour)"),
        (90, "rate(90 minutes)"),
        (360, "rate(6 hours)"),
        (1440, "rate(1 day)"),
        (2880, "rate(2 days)"),
    ],
)
def test_fixed_rates_use_the_largest_whole_unit(minutes: int, expected: str) -> None:
    assert schedule_expression(ir.ScheduleSpec(kind="rate", rate_minutes=minutes)) == expected


def test_flytes_aws_cron_expression_passes_through() -> None:
    assert schedule_expression(ir.ScheduleSpec(kind="aws_cron", cron="0 10 * * ? *")) == "cron(0 10 * * ? *)"


@pytest.mark.parametrize(
    "bad", ["60 * * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "x * * * *"]
)
def test_bad_cron_fields_are_named(bad: str) -> None:
    problem = cron_problem(bad)
    assert problem is not None and problem.startswith(f"cron schedule {bad!r}: ")


def test_scheduled_run_ids_are_per_occurrence_and_valid() -> None:
    a = protocol.scheduled_run_id("nightly", "2026-12-01T03:00:00Z")
    assert (
        a == protocol.scheduled_run_id("nightly", "2026-12-01T03:00:00+00:00") == "nightly-20261201T030000Z"
    )
    assert a != protocol.scheduled_run_id("nightly", "2026-12-02T03:00:00Z")
    assert a.startswith(protocol.plan_run_prefix("nightly"))
    long = "p" * 100
    for plan in ("my.plan", long, "a b"):
        run_id = protocol.scheduled_run_id(plan, "2026-12-01T03:00:00Z")
        assert protocol.run_id_problem(run_id) is None, run_id
        assert run_id.startswith(protocol.plan_run_prefix(plan))
    # Cleaning never merges two names: 'a b' and 'a-b' stay apart.
    assert protocol.scheduled_run_id("a b", "2026-12-01T03:00:00Z") != protocol.scheduled_run_id(
        "a-b", "2026-12-01T03:00:00Z"
    )
    assert re.fullmatch(
        r"p{47}-[0-9a-f]{8}-20261201T030000Z", protocol.scheduled_run_id(long, "2026-12-01T03:00:00Z")
    )
