"""``LaunchPlan``, ``CronSchedule``, ``FixedRate`` and notifications: the IR they make, and one test
per DefinitionError (exact text, and the line of the call that made the bad thing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import Email, LaunchPlan, WorkflowExecutionPhase, task, workflow
from tests.define._cases import definition_error, import_path, write_module
from tests.define.test_errors import Case

# Lines 1-14; a case's first line is line 15.
HEAD = """\
from datetime import datetime, timedelta

from stratoflow import CronSchedule, Email, FixedRate, LaunchPlan, PagerDuty, WorkflowExecutionPhase, task, workflow


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def wf(a: int, b: int, at: datetime, c: int = 1) -> int:
    return add(a=a, b=b)

"""

CASES = [
    Case(
        "fixed-input-not-an-input",
        HEAD + 'lp = LaunchPlan.get_or_create(wf, name="p", fixed_inputs={"bb": 2})\n',
        ((15, "launch plan 'p' fixes input 'bb', which workflow 'wf' does not have", "did you mean 'b'?"),),
    ),
    Case(
        "default-input-of-the-wrong-type",
        HEAD + 'lp = LaunchPlan.get_or_create(wf, name="p", default_inputs={"a": "one"})\n',
        ((15, "launch plan 'p' defaults input 'a': expected int, got str 'one'", None),),
    ),
    Case(
        "input-both-fixed-and-defaulted",
        HEAD
        + 'lp = LaunchPlan.get_or_create(wf, name="p", fixed_inputs={"a": 1}, default_inputs={"a": 2})\n',
        ((15, "launch plan 'p' both fixes and defaults input 'a'", None),),
    ),
    Case(
        "scheduled-plan-missing-required-inputs",
        HEAD
        + """lp = LaunchPlan.get_or_create(
    wf, name="p", fixed_inputs={"b": 2}, schedule=CronSchedule(schedule="@daily")
)
""",
        (
            (
                15,
                "scheduled launch plan 'p' gives no value for required input 'a' of workflow 'wf'",
                "add 'a' to default_inputs or fixed_inputs",
            ),
            (
                15,
                "scheduled launch plan 'p' gives no value for required input 'at' of workflow 'wf'",
                "add 'at' to default_inputs or fixed_inputs",
            ),
        ),
    ),
    Case(
        "kickoff-input-not-a-datetime",
        HEAD
        + """lp = LaunchPlan.get_or_create(
    wf,
    name="p",
    fixed_inputs={"a": 1, "b": 2},
    schedule=FixedRate(duration=timedelta(hours=1), kickoff_time_input_arg="c"),
)
""",
        (
            (
                15,
                "launch plan 'p' schedule's kickoff_time_input_arg 'c' names an input workflow 'wf' has as "
                "int, not datetime",
                "the scheduled time fills a 'datetime' input",
            ),
        ),
    ),
    Case(
        "cron-hour-out-of-range",
        HEAD
        + """lp = LaunchPlan.get_or_create(
    wf,
    name="p",
    schedule=CronSchedule(schedule="0 25 * * *"),
)
""",
        ((18, "cron schedule '0 25 * * *': hour field '25' is outside 0-23", None),),
    ),
    Case(
        "cron-wrong-field-count",
        HEAD + 'every = CronSchedule(schedule="0 * * *")\n',
        (
            (
                15,
                "cron schedule '0 * * *' has 4 fields; expected 5 (minute hour day-of-month month day-of-week) "
                "or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually",
                None,
            ),
        ),
    ),
    Case(
        "cron-both-day-fields",
        HEAD + 'every = CronSchedule(schedule="0 3 1 * MON")\n',
        (
            (
                15,
                "cron schedule '0 3 1 * MON' restricts both day of month and day of week; restrict one of them "
                "(write '*' in the other)",
                None,
            ),
        ),
    ),
    Case(
        "aws-cron-expression-without-question-mark",
        HEAD + 'every = CronSchedule(cron_expression="0 10 * * * *")\n',
        (
            (
                15,
                "cron_expression '0 10 * * * *' must have '?' in exactly one of day of month and day of week",
                None,
            ),
        ),
    ),
    Case(
        "cron-both-forms",
        HEAD + 'every = CronSchedule(cron_expression="0 10 * * ? *", schedule="@daily")\n',
        ((15, "CronSchedule takes exactly one of schedule= and cron_expression=", None),),
    ),
    Case(
        "fixed-rate-under-a-minute",
        HEAD + "every = FixedRate(duration=timedelta(seconds=90))\n",
        (
            (
                15,
                "FixedRate duration 0:01:30 is not a whole number of minutes of at least one",
                "Flyte and EventBridge Scheduler schedule at minute granularity",
            ),
        ),
    ),
    Case(
        "notification-phase-not-terminal",
        HEAD + 'alert = Email(phases=[WorkflowExecutionPhase.RUNNING], recipients_email=["a@example.com"])\n',
        (
            (
                15,
                "Email phase <WorkflowExecutionPhase.RUNNING: 2> is not terminal; only terminal phases are "
                "permitted for notifications",
                "use WorkflowExecutionPhase.SUCCEEDED, FAILED, ABORTED or TIMED_OUT",
            ),
        ),
    ),
    Case(
        "notification-bad-recipient",
        HEAD + 'alert = PagerDuty(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["oncall"])\n',
        ((15, "PagerDuty recipients_email must be a non-empty list of email addresses, got 'oncall'", None),),
    ),
    Case(
        "default-plan-with-inputs",
        HEAD + 'lp = LaunchPlan.get_or_create(wf, fixed_inputs={"a": 1})\n',
        (
            (
                15,
                "a default launch plan (name=None) cannot have inputs, a schedule or notifications",
                "give the launch plan a name",
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_launch_plan_definition_error_message_and_line(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, case.source)
    assert [(p.line, p.message, p.hint) for p in error.problems] == list(case.problems)
    for problem in error.problems:
        assert Path(problem.path).resolve() == path.resolve()


def test_a_name_reused_with_other_parameters_is_an_error_at_the_second_call(tmp_path: Path) -> None:
    source = (
        HEAD
        + 'first = LaunchPlan.get_or_create(wf, name="reused_plan", fixed_inputs={"a": 1})\n'
        + 'same = LaunchPlan.get_or_create(wf, name="reused_plan", fixed_inputs={"a": 1})\n'
        + 'other = LaunchPlan.get_or_create(wf, name="reused_plan", fixed_inputs={"a": 2})\n'
    )
    try:
        _, error = definition_error(tmp_path, source)
    finally:
        LaunchPlan.CACHE.pop("reused_plan", None)
    (problem,) = error.problems
    assert (problem.line, problem.message) == (
        17,
        f"launch plan 'reused_plan' was already created with different parameters at {problem.path}:15",
    )


def test_a_plan_lowers_to_its_spec(tmp_path: Path) -> None:
    module = import_path(
        write_module(
            tmp_path,
            HEAD
            + """lp = LaunchPlan.get_or_create(
    wf,
    name="nightly_spec_case",
    fixed_inputs={"b": 2},
    default_inputs={"a": 1},
    schedule=CronSchedule(schedule="@weekly", kickoff_time_input_arg="at", timezone="Europe/Berlin"),
    notifications=[
        Email(phases=[WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.TIMED_OUT], recipients_email=["a@x.io"]),
        PagerDuty(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["svc@x.pagerduty.com"]),
    ],
)
default = LaunchPlan.get_or_create(wf)
""",
        )
    )
    LaunchPlan.CACHE.pop("nightly_spec_case", None)
    spec = module.lp.spec.model_dump(mode="json", exclude={"location"})
    assert spec == {
        "name": "nightly_spec_case",
        "workflow": "wf",
        "fixed_inputs": {"b": 2},
        "default_inputs": {"a": 1},
        "schedule": {
            "kind": "cron",
            "cron": "0 0 * * 0",
            "rate_minutes": None,
            "timezone": "Europe/Berlin",
            "kickoff_input": "at",
        },
        "notifications": [
            {"channel": "email", "phases": ["FAILED", "TIMED_OUT"], "recipients": ["a@x.io"]},
            {"channel": "pagerduty", "phases": ["FAILED"], "recipients": ["svc@x.pagerduty.com"]},
        ],
    }
    assert module.lp.spec.location.line == 15
    assert module.default.name == "wf" and module.default.spec.schedule is None


def test_flytekit_phase_numbers() -> None:
    # flytekit.models.core.execution.WorkflowExecutionPhase
    assert [int(p) for p in WorkflowExecutionPhase] == list(range(10))
    assert (int(WorkflowExecutionPhase.FAILED), int(WorkflowExecutionPhase.TIMED_OUT)) == (6, 8)


def test_plain_objects_build_without_a_module(tmp_path: Path) -> None:
    @task
    def one(x: int) -> int:
        return x

    @workflow
    def flow(x: int) -> int:
        return one(x=x)

    plan = LaunchPlan.create("plain_plan_case", flow, default_inputs={"x": 4})
    LaunchPlan.CACHE.pop("plain_plan_case", None)
    assert plan() == 4 and plan(x=5) == 5
    assert Email(phases=[4], recipients_email=["a@b.co"]).phases == [WorkflowExecutionPhase.SUCCEEDED]
