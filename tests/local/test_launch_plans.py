"""Launch plans run by hand, locally: Flyte's input merging (workflow defaults, plan defaults, the
caller's values, fixed inputs last and never overridden), the kickoff time, ``stratoflow run FILE PLAN``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from stratoflow import cli
from stratoflow.define import load_launch_plan, load_target
from stratoflow.errors import ConfigError, InputError
from tests.conftest import EXAMPLES

SCHEDULED = str(EXAMPLES / "scheduled.py")


def test_inputs_merge_as_flyte_merges_them() -> None:
    plan = load_launch_plan(SCHEDULED, "nightly_report")
    day = datetime(2026, 3, 4, tzinfo=UTC)
    assert plan.merged_inputs({}, kickoff=day) == {"top": 3, "region": "eu", "day": day}
    assert plan.merged_inputs({"top": 1, "day": day}) == {"top": 1, "region": "eu", "day": day}
    with pytest.raises(
        InputError,
        match=r"^input 'region' is fixed by launch plan 'nightly_report' and cannot be overridden$",
    ):
        plan.merged_inputs({"region": "us"})


def test_calling_a_plan_runs_its_workflow_with_the_kickoff_time_now() -> None:
    plan = load_launch_plan(SCHEDULED, "nightly_report")
    before = datetime.now(UTC)
    report = plan(top=2)
    stamp = datetime.fromisoformat(report.split(": ")[0].removeprefix("report for "))
    assert before <= stamp <= datetime.now(UTC)
    assert report.endswith(f"eu-{stamp:%Y-%m-%d}-1, eu-{stamp:%Y-%m-%d}-2")
    with pytest.raises(InputError, match="input 'region' is fixed"):
        plan(region="us")


def test_a_plan_is_found_by_variable_or_by_name_and_a_typo_is_named() -> None:
    assert load_target(SCHEDULED, "hourly_refresh").name == "hourly_refresh"
    with pytest.raises(
        ConfigError,
        match=r"has no workflow or launch plan named 'nightly'.*launch plans: hourly_refresh, nightly_report",
    ):
        load_target(SCHEDULED, "nightly")


def test_stratoflow_run_file_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(
            ["run", "--json", SCHEDULED, "nightly_report", "--top", "1", "--day", "2026-05-06T03:00:00+02:00"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == {
        "o0": "report for 2026-05-06T03:00:00+02:00: eu-2026-05-06-1"
    }


def test_stratoflow_run_refuses_to_override_a_fixed_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", SCHEDULED, "hourly_refresh", "--region", "eu"]) != 0
    assert (
        "input 'region' is fixed by launch plan 'hourly_refresh' and cannot be overridden"
        in capsys.readouterr().err
    )
