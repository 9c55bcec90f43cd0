"""IR schedules -> EventBridge Scheduler expressions (``cron(...)``, ``rate(...)``).

Unix cron (what Flyte's ``CronSchedule(schedule=...)`` takes) and Scheduler's cron differ:
Scheduler has six fields (a year last), numbers days of the week 1-7 from Sunday (Unix: 0-7,
0 and 7 both Sunday), and wants ``?`` in whichever day field is unrestricted. The definition
layer has already refused what Scheduler cannot say (both day fields restricted).

Example:
    >>> from stratoflow import ir
    >>> schedule_expression(ir.ScheduleSpec(kind="cron", cron="0 3 * * 1-5"))
    'cron(0 3 ? * 2-6 *)'
    >>> schedule_expression(ir.ScheduleSpec(kind="rate", rate_minutes=90))
    'rate(90 minutes)'
"""

from __future__ import annotations

import re

from stratoflow import ir

__all__ = ["schedule_expression"]

_NUMBER = re.compile(r"\d+")
_DAY, _HOUR = 24 * 60, 60


def _day_of_week(field: str) -> str:
    """Unix day-of-week numbers (0-7, Sunday 0 or 7) as Scheduler's (1-7, Sunday 1); steps kept.

    A range ending on Unix's Sunday-as-7 (``5-7``) would run backwards shifted (``6-1``), so it
    becomes the range to Saturday plus Sunday (``6-7,1``).
    """

    def one(element: str) -> str:
        body, slash, step = element.partition("/")
        low, dash, high = body.partition("-")
        if dash and not slash and high == "7" and low.isdigit():
            return "1-7" if low == "0" else f"{int(low) + 1}-7,1"
        shifted = _NUMBER.sub(lambda m: str(int(m.group()) % 7 + 1), body)
        return f"{shifted}{slash}{step}"

    return ",".join(one(element) for element in field.split(","))


def _rate(minutes: int) -> str:
    for size, unit in ((_DAY, "day"), (_HOUR, "hour"), (1, "minute")):
        if minutes % size == 0:
            count = minutes // size
            return f"rate({count} {unit}{'' if count == 1 else 's'})"
    raise AssertionError("unreachable: every whole number of minutes divides by 1")  # pragma: no cover


def schedule_expression(schedule: ir.ScheduleSpec) -> str:
    """The ``ScheduleExpression`` of an ``AWS::Scheduler::Schedule`` for ``schedule``."""
    if schedule.kind == "rate":
        return _rate(schedule.rate_minutes or 1)
    if schedule.kind == "aws_cron":
        return f"cron({schedule.cron})"
    minute, hour, day, month, weekday = (schedule.cron or "").split()
    if weekday == "*":
        weekday = "?"
    else:
        weekday = _day_of_week(weekday)
        day = "?"
    return f"cron({minute} {hour} {day} {month} {weekday} *)"
