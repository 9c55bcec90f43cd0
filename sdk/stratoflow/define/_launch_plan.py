"""``LaunchPlan``: a workflow with saved inputs, a schedule and notifications (flytekit's names).

A plan is checked when it is created, against its workflow's interface, and every problem
is raised at once at the line that created it: an input it fixes or defaults that the
workflow does not have (or of the wrong type), a kickoff-time input that is not a
``datetime`` input, and, for a scheduled plan, a required input nothing fills (a schedule
has nobody to ask). Run by hand (``plan(**overrides)``, ``stratoflow run FILE PLAN``), its
inputs merge as Flyte merges them: the workflow's defaults, then the plan's defaults, then
the caller's values; fixed inputs last, and overriding one is an ``InputError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from stratoflow import ir, values
from stratoflow.define._location import caller_location
from stratoflow.define._schedules import CronSchedule, FixedRate, Notification
from stratoflow.define._trace import active_trace, constant_to_json
from stratoflow.define._workflow import WorkflowDef
from stratoflow.errors import DefinitionError, InputError, Problem

__all__ = ["LaunchPlan"]

Schedule = CronSchedule | FixedRate


def _check_inputs(
    *,
    label: str,
    kind: str,
    given: Mapping[str, Any],
    workflow: WorkflowDef[Any, Any],
    where: ir.SourceLocation,
    problems: list[Problem],
) -> dict[str, ir.JsonValue]:
    inputs = {v.name: v for v in workflow.interface.inputs}
    encoded: dict[str, ir.JsonValue] = {}
    for name, value in given.items():
        variable = inputs.get(name)
        if variable is None:
            import difflib  # noqa: PLC0415 - only to suggest a name in an error

            close = difflib.get_close_matches(name, list(inputs), n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"its inputs are: {', '.join(inputs) or 'none'}"
            )
            problems.append(
                Problem(
                    f"{label} {kind} input '{name}', which workflow '{workflow.name}' does not have",
                    where.path,
                    where.line,
                    where.col,
                    hint=hint,
                )
            )
            continue
        try:
            encoded[name] = constant_to_json(value, variable.type)
        except values.ValueTypeError as exc:
            problems.append(
                Problem(f"{label} {kind} input '{name}': {exc}", where.path, where.line, where.col)
            )
    return encoded


def _check_kickoff(
    label: str, schedule: Schedule, workflow: WorkflowDef[Any, Any], where: ir.SourceLocation
) -> list[Problem]:
    name = schedule.kickoff_time_input_arg
    if name is None:
        return []
    inputs = {v.name: v for v in workflow.interface.inputs}
    variable = inputs.get(name)
    if variable is None or variable.type.kind != "datetime":
        what = "does not have" if variable is None else f"has as {variable.type.render()}, not datetime"
        return [
            Problem(
                f"{label} schedule's kickoff_time_input_arg '{name}' names an input workflow "
                f"'{workflow.name}' {what}",
                where.path,
                where.line,
                where.col,
                hint="the scheduled time fills a 'datetime' input",
            )
        ]
    return []


def _check_scheduled(
    label: str, spec: ir.LaunchPlanSpec, workflow: WorkflowDef[Any, Any], where: ir.SourceLocation
) -> list[Problem]:
    """A schedule starts the plan with its inputs alone: each required input must be filled."""
    assert spec.schedule is not None  # noqa: S101 - called for scheduled plans only
    filled = {*spec.fixed_inputs, *spec.default_inputs, spec.schedule.kickoff_input}
    return [
        Problem(
            f"scheduled {label} gives no value for required input '{v.name}' of workflow '{workflow.name}'",
            where.path,
            where.line,
            where.col,
            hint=f"add '{v.name}' to default_inputs or fixed_inputs",
        )
        for v in workflow.interface.inputs
        if not v.has_default and v.name not in filled
    ]


class LaunchPlan:
    """A workflow with saved inputs, an optional schedule and notifications.

    Create plans with :meth:`get_or_create` (or :meth:`create`), as in flytekit. Listed in
    ``cdk.json`` (``"flows.py:nightly"``, the variable or the plan's name), a plan deploys its
    workflow, its schedule (EventBridge Scheduler) and its notifications (EventBridge → SNS).

    Example:
        >>> nightly = LaunchPlan.get_or_create(
        ...     report, name="nightly_report", fixed_inputs={"region": "eu"},
        ...     schedule=CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg="day"),
        ...     notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["a@b.io"])],
        ... )  # doctest: +SKIP
        >>> nightly(limit=5)  # runs locally, day = now  # doctest: +SKIP
    """

    CACHE: ClassVar[dict[str, LaunchPlan]] = {}

    def __init__(
        self,
        name: str,
        workflow: WorkflowDef[Any, Any],
        *,
        default_inputs: Mapping[str, Any] | None = None,
        fixed_inputs: Mapping[str, Any] | None = None,
        schedule: Schedule | None = None,
        notifications: Sequence[Notification] = (),
        location: ir.SourceLocation | None = None,
    ) -> None:
        where = location or caller_location()
        label = f"launch plan '{name}'"
        if not isinstance(workflow, WorkflowDef):
            raise DefinitionError(
                Problem(
                    f"{label} needs a @workflow, got {type(workflow).__name__}",
                    where.path,
                    where.line,
                    where.col,
                )
            )
        problems: list[Problem] = []
        fixed = _check_inputs(
            label=label,
            kind="fixes",
            given=dict(fixed_inputs or {}),
            workflow=workflow,
            where=where,
            problems=problems,
        )
        default = _check_inputs(
            label=label,
            kind="defaults",
            given=dict(default_inputs or {}),
            workflow=workflow,
            where=where,
            problems=problems,
        )
        for both in sorted(set(fixed) & set(default)):
            problems.append(
                Problem(f"{label} both fixes and defaults input '{both}'", where.path, where.line, where.col)
            )
        bad = [n for n in notifications if not isinstance(n, Notification)]
        if bad:
            problems.append(
                Problem(
                    f"{label} notifications must be Email, Slack or PagerDuty, got {type(bad[0]).__name__}",
                    where.path,
                    where.line,
                    where.col,
                )
            )
        if schedule is not None:
            problems.extend(_check_kickoff(label, schedule, workflow, where))
            if schedule.kickoff_time_input_arg in fixed:
                problems.append(
                    Problem(
                        f"{label} fixes input '{schedule.kickoff_time_input_arg}', which its schedule fills",
                        where.path,
                        where.line,
                        where.col,
                    )
                )
        self.spec = ir.LaunchPlanSpec(
            name=name,
            workflow=workflow.name,
            fixed_inputs=fixed,
            default_inputs=default,
            schedule=schedule.to_spec() if schedule is not None else None,
            notifications=tuple(n.to_spec() for n in notifications if isinstance(n, Notification)),
            location=where,
        )
        if schedule is not None and not problems:
            problems.extend(_check_scheduled(label, self.spec, workflow, where))
        if problems:
            raise DefinitionError(problems)
        self.name = name
        self.workflow = workflow
        self.fixed_inputs: dict[str, Any] = dict(fixed_inputs or {})
        self.saved_inputs: dict[str, Any] = dict(default_inputs or {})
        self.schedule = schedule
        self.notifications = list(notifications)
        self.location = where

    @classmethod
    def get_or_create(  # noqa: PLR0917 - flytekit's signature, positional as there
        cls,
        workflow: WorkflowDef[Any, Any],
        name: str | None = None,
        default_inputs: Mapping[str, Any] | None = None,
        fixed_inputs: Mapping[str, Any] | None = None,
        schedule: Schedule | None = None,
        notifications: Sequence[Notification] | None = None,
    ) -> LaunchPlan:
        """The plan called ``name`` (``None``: the workflow's default plan), created on first use.

        Asking again for a name with other parameters is a definition error, as in flytekit.
        """
        where = caller_location()
        if name is None:
            if default_inputs or fixed_inputs or schedule or notifications:
                raise DefinitionError(
                    Problem(
                        "a default launch plan (name=None) cannot have inputs, a schedule or notifications",
                        where.path,
                        where.line,
                        where.col,
                        hint="give the launch plan a name",
                    )
                )
            name = workflow.name
        plan = cls(
            name,
            workflow,
            default_inputs=default_inputs,
            fixed_inputs=fixed_inputs,
            schedule=schedule,
            notifications=notifications or (),
            location=where,
        )
        existing = cls.CACHE.get(name)
        if existing is None:
            cls.CACHE[name] = plan
            return plan
        if existing.workflow.ref == workflow.ref and existing.spec.model_dump(
            exclude={"location"}
        ) == plan.spec.model_dump(exclude={"location"}):
            return existing
        first = existing.location
        raise DefinitionError(
            Problem(
                f"launch plan '{name}' was already created with different parameters at "
                f"{first.path}:{first.line}",
                where.path,
                where.line,
                where.col,
                hint="launch plan names are unique; use another name",
            )
        )

    @classmethod
    def get_default_launch_plan(cls, ctx: object, workflow: WorkflowDef[Any, Any]) -> LaunchPlan:
        """flytekit's name for the workflow's default plan: :meth:`get_or_create` of ``workflow`` alone.
        ``ctx`` (flytekit passes ``current_context()``) is not needed to find it and is ignored."""
        return cls.get_or_create(workflow)

    @classmethod
    def create(  # noqa: PLR0917 - flytekit's signature, positional as there
        cls,
        name: str,
        workflow: WorkflowDef[Any, Any],
        default_inputs: Mapping[str, Any] | None = None,
        fixed_inputs: Mapping[str, Any] | None = None,
        schedule: Schedule | None = None,
        notifications: Sequence[Notification] | None = None,
    ) -> LaunchPlan:
        """A new named plan (flytekit's ``create``; registered like :meth:`get_or_create`'s)."""
        plan = cls(
            name,
            workflow,
            default_inputs=default_inputs,
            fixed_inputs=fixed_inputs,
            schedule=schedule,
            notifications=notifications or (),
            location=caller_location(),
        )
        cls.CACHE[name] = plan
        return plan

    def merged_inputs(
        self, overrides: Mapping[str, Any], *, kickoff: datetime | None = None
    ) -> dict[str, Any]:
        """The workflow inputs for a start with ``overrides``: plan defaults, overrides, fixed, and the
        kickoff time (``kickoff``, else now) when the schedule names an input the caller left out."""
        fixed = sorted(set(overrides) & set(self.fixed_inputs))
        if fixed:
            raise InputError(
                f"input '{fixed[0]}' is fixed by launch plan '{self.name}' and cannot be overridden",
                input_name=fixed[0],
            )
        merged = {**self.saved_inputs, **overrides, **self.fixed_inputs}
        arg = self.schedule.kickoff_time_input_arg if self.schedule is not None else None
        if arg is not None and arg not in merged:
            merged[arg] = kickoff or datetime.now(UTC)
        return merged

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the plan's workflow (locally, or as a node inside a workflow body) with merged inputs."""
        if args:
            raise TypeError(f"launch plan '{self.name}' takes keyword arguments only")
        if active_trace() is not None:
            # Traced as a sub-workflow call: no "now" at definition time.
            fixed = sorted(set(kwargs) & set(self.fixed_inputs))
            if fixed:
                where = caller_location()
                raise DefinitionError(
                    Problem(
                        f"input '{fixed[0]}' is fixed by launch plan '{self.name}' and cannot be overridden",
                        where.path,
                        where.line,
                        where.col,
                    )
                )
            return self.workflow(**{**self.saved_inputs, **kwargs, **self.fixed_inputs})
        return self.workflow(**self.merged_inputs(kwargs))

    def __repr__(self) -> str:
        return f"LaunchPlan({self.name!r}, workflow={self.workflow.name!r})"
