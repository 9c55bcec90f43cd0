"""Flyte's schedules and notifications: ``CronSchedule``, ``FixedRate``, ``Email``, ``Slack``,
``PagerDuty`` and ``WorkflowExecutionPhase``, checked where they are written.

Each is plain data with flytekit's constructor; a bad one (a cron expression that is not
one, a rate finer than a minute, a phase that is not terminal) is a ``DefinitionError`` at
the line that built it, raised there, since nothing later knows that line.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import IntEnum
from typing import TYPE_CHECKING, ClassVar, Literal

from stratoflow import ir
from stratoflow.define._location import caller_location
from stratoflow.errors import DefinitionError, Problem

if TYPE_CHECKING:
    from stratoflow.ir._plans import Phase

__all__ = [
    "CronSchedule",
    "Email",
    "FixedRate",
    "Notification",
    "PagerDuty",
    "Slack",
    "Webhook",
    "WorkflowExecutionPhase",
    "cron_problem",
]


class WorkflowExecutionPhase(IntEnum):
    """Flyte's execution phases, with flytekit's numbers; notifications take the terminal ones."""

    UNDEFINED = 0
    QUEUED = 1
    RUNNING = 2
    SUCCEEDING = 3
    SUCCEEDED = 4
    FAILING = 5
    FAILED = 6
    ABORTED = 7
    TIMED_OUT = 8
    ABORTING = 9


_TERMINAL: dict[WorkflowExecutionPhase, Phase] = {
    WorkflowExecutionPhase.SUCCEEDED: "SUCCEEDED",
    WorkflowExecutionPhase.FAILED: "FAILED",
    WorkflowExecutionPhase.ABORTED: "ABORTED",
    WorkflowExecutionPhase.TIMED_OUT: "TIMED_OUT",
}

_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names) of the five Unix cron fields.
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ELEMENT = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def _field_problem(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> str | None:
    for element in text.split(","):
        match = _ELEMENT.match(element)
        if match is None:
            return f"{name} field {text!r} is not a cron field ('*', '5', '1-5', '*/15', '1,15')"
        if match["step"] is not None and int(match["step"]) == 0:
            return f"{name} field {text!r} has step 0"
        if match["range"] == "*":
            continue
        bounds = [_value(part, low, high, names) for part in match["range"].split("-")]
        if None in bounds:
            spelled = f" or {names[0]}-{names[-1]}" if names else ""
            return f"{name} field {text!r} is outside {low}-{high}{spelled}"
        if len(bounds) == 2 and bounds[0] > bounds[1]:  # type: ignore[operator]
            return f"{name} field {text!r} has a range that runs backwards"
    return None


def cron_problem(expression: str) -> str | None:
    """What is wrong with a five-field Unix cron expression (or an ``@daily``-style alias), or ``None``."""
    fields = _ALIASES.get(expression.strip(), expression).split()
    if len(fields) != 5:
        return (
            f"cron schedule {expression!r} has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week) or one of " + ", ".join(_ALIASES)
        )
    for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(text, name, low, high, names)
        if problem is not None:
            return f"cron schedule {expression!r}: {problem}"
    if fields[2] != "*" and fields[4] != "*":
        # Unix cron ORs the two day fields; EventBridge Scheduler cannot express that.
        return (
            f"cron schedule {expression!r} restricts both day of month and day of week; "
            "restrict one of them (write '*' in the other)"
        )
    return None


_AWS_FIELDS = 6


def _aws_cron_problem(expression: str) -> str | None:
    fields = expression.split()
    if len(fields) != _AWS_FIELDS:
        return (
            f"cron_expression {expression!r} has {len(fields)} fields; expected 6 "
            "(minute hour day-of-month month day-of-week year, AWS's spelling)"
        )
    if (fields[2] == "?") == (fields[4] == "?"):
        return f"cron_expression {expression!r} must have '?' in exactly one of day of month and day of week"
    return None


def _raise(message: str, where: ir.SourceLocation, hint: str | None = None) -> None:
    raise DefinitionError(Problem(message, where.path, where.line, where.col, hint=hint))


class CronSchedule:
    """Start a launch plan on a cron schedule (flytekit's ``CronSchedule``).

    ``schedule`` is a five-field Unix cron expression or an alias (``@hourly``, ``@daily``,
    ``@weekly``, ``@monthly``, ``@yearly``); ``cron_expression`` is Flyte's older AWS-style
    six-field form (``"0 10 * * ? *"``). ``timezone`` is an IANA name (stratoflow's addition;
    Scheduler evaluates the expression there, daylight saving included). ``kickoff_time_input_arg``
    names a ``datetime`` input that gets the scheduled time.

    Example:
        >>> CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg="run_at", timezone="Europe/Berlin")
        CronSchedule(schedule='0 3 * * *', timezone='Europe/Berlin')
    """

    def __init__(
        self,
        cron_expression: str | None = None,
        schedule: str | None = None,
        offset: str | None = None,
        kickoff_time_input_arg: str | None = None,
        *,
        timezone: str = "UTC",
    ) -> None:
        self.location = caller_location()
        if (cron_expression is None) == (schedule is None):
            _raise("CronSchedule takes exactly one of schedule= and cron_expression=", self.location)
        if offset is not None:
            _raise(
                "CronSchedule offset= is not supported: EventBridge Scheduler has no offsets",
                self.location,
                hint="shift the expression instead",
            )
        problem = (
            _aws_cron_problem(cron_expression)
            if cron_expression is not None
            else cron_problem(schedule or "")
        )
        if problem is not None:
            _raise(problem, self.location)
        if not re.fullmatch(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*", timezone):
            _raise(f"CronSchedule timezone {timezone!r} is not an IANA time zone name", self.location)
        self.cron_expression = cron_expression
        self.schedule = None if schedule is None else _ALIASES.get(schedule.strip(), schedule.strip())
        self.kickoff_time_input_arg = kickoff_time_input_arg
        self.timezone = timezone

    def to_spec(self) -> ir.ScheduleSpec:
        """The IR of this schedule."""
        if self.cron_expression is not None:
            return ir.ScheduleSpec(
                kind="aws_cron",
                cron=self.cron_expression,
                timezone=self.timezone,
                kickoff_input=self.kickoff_time_input_arg,
            )
        return ir.ScheduleSpec(
            kind="cron", cron=self.schedule, timezone=self.timezone, kickoff_input=self.kickoff_time_input_arg
        )

    def __repr__(self) -> str:
        what = f"schedule={self.schedule!r}" if self.schedule else f"cron_expression={self.cron_expression!r}"
        return f"CronSchedule({what}, timezone={self.timezone!r})"


class FixedRate:
    """Start a launch plan every ``duration`` (flytekit's ``FixedRate``; whole minutes, at least one).

    Example:
        >>> FixedRate(duration=timedelta(hours=6))
        FixedRate(duration=datetime.timedelta(seconds=21600))
    """

    def __init__(self, duration: timedelta, kickoff_time_input_arg: str | None = None) -> None:
        self.location = caller_location()
        seconds = duration.total_seconds()
        if seconds < 60 or duration.microseconds or int(seconds) % 60:
            _raise(
                f"FixedRate duration {duration} is not a whole number of minutes of at least one",
                self.location,
                hint="Flyte and EventBridge Scheduler schedule at minute granularity",
            )
        self.duration = duration
        self.kickoff_time_input_arg = kickoff_time_input_arg

    def to_spec(self) -> ir.ScheduleSpec:
        """The IR of this schedule."""
        return ir.ScheduleSpec(
            kind="rate",
            rate_minutes=int(self.duration.total_seconds()) // 60,
            kickoff_input=self.kickoff_time_input_arg,
        )

    def __repr__(self) -> str:
        return f"FixedRate(duration={self.duration!r})"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Notification:
    """Tell ``recipients_email`` when a run ends in one of ``phases`` (flytekit's base class)."""

    channel: ClassVar[Literal["email", "slack", "pagerduty"]] = "email"

    def __init__(self, phases: list[int], recipients_email: list[str]) -> None:
        self.location = caller_location()
        label = type(self).__name__
        for phase in phases:
            if phase not in _TERMINAL:
                _raise(
                    f"{label} phase {phase!r} is not terminal; only terminal phases are permitted for "
                    "notifications",
                    self.location,
                    hint="use WorkflowExecutionPhase.SUCCEEDED, FAILED, ABORTED or TIMED_OUT",
                )
        if not phases:
            _raise(f"{label} needs at least one phase", self.location)
        bad = [r for r in recipients_email if not _EMAIL.match(r)]
        if bad or not recipients_email:
            _raise(
                f"{label} recipients_email must be a non-empty list of email addresses"
                + (f", got {bad[0]!r}" if bad else ""),
                self.location,
            )
        self.phases = [WorkflowExecutionPhase(p) for p in phases]
        self.recipients_email = list(recipients_email)

    def to_spec(self) -> ir.NotificationSpec:
        """The IR of this notification."""
        return ir.NotificationSpec(
            channel=self.channel,
            phases=tuple(dict.fromkeys(_TERMINAL[p] for p in self.phases)),
            recipients=tuple(self.recipients_email),
        )


class Email(Notification):
    """Email ``recipients_email`` when a run ends in one of ``phases``.

    Example:
        >>> Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["oncall@example.com"])  # doctest: +SKIP
    """

    channel = "email"


class Slack(Notification):
    """Notify Slack through its email integration (a channel's address), as Flyte does."""

    channel = "slack"


class PagerDuty(Notification):
    """Notify PagerDuty through its email integration (a service's address), as Flyte does."""

    channel = "pagerduty"


_WEBHOOK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class Webhook:
    """POST a JSON message (``text``, ``workflow``, ``run``, ``phase``, ``error``, ``cause``, ``console``: a
    Slack incoming webhook's shape) to the URL stored in the Secrets Manager secret
    ``stratoflow/webhooks/<secret>`` when a run ends in one of ``phases``: an EventBridge API destination
    on AWS. The URL is read at deploy time, never written in code or the template. stratoflow's addition
    (Flyte reaches Slack and PagerDuty by email); locally nothing is sent.

    Example:
        >>> Webhook(phases=[WorkflowExecutionPhase.FAILED], secret="slack-alerts")  # doctest: +SKIP
    """

    channel: ClassVar[Literal["webhook"]] = "webhook"

    def __init__(self, phases: list[int], secret: str) -> None:
        self.location = caller_location()
        for phase in phases:
            if phase not in _TERMINAL:
                _raise(
                    f"Webhook phase {phase!r} is not terminal; only terminal phases are permitted for "
                    "notifications",
                    self.location,
                    hint="use WorkflowExecutionPhase.SUCCEEDED, FAILED, ABORTED or TIMED_OUT",
                )
        if not phases:
            _raise("Webhook needs at least one phase", self.location)
        if not _WEBHOOK_NAME.match(secret):
            _raise(
                f"Webhook secret {secret!r} must be a secret name part (letters, digits, '_', '.', '-'): "
                "the URL is in Secrets Manager as stratoflow/webhooks/<secret>",
                self.location,
            )
        self.phases = [WorkflowExecutionPhase(p) for p in phases]
        self.secret = secret

    def to_spec(self) -> ir.NotificationSpec:
        """The IR of this notification."""
        return ir.NotificationSpec(
            channel="webhook",
            phases=tuple(dict.fromkeys(_TERMINAL[p] for p in self.phases)),
            webhook=self.secret,
        )
