"""Launch plans on emulated AWS: the deployed schedule starter, invoked with the event its
schedule delivers, starts exactly one run per occurrence (a duplicate delivery starts nothing),
with the plan's inputs and the scheduled time, and the run succeeds like the local one."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client import Execution
from stratoflow.define import load_launch_plan
from stratoflow.errors import InputError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox
from stratoflow.testing._stack import TEST_CONTEXT, synth_app

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "scheduled.py"
CONTEXT = {**TEST_CONTEXT, "stratoflow:workflows": [f"{EXAMPLE}:nightly_report"]}
SCHEDULED = "2026-12-01T02:00:00Z"  # 03:00 in Berlin


@pytest.fixture(scope="module")
def stack() -> Iterator[StackSandbox]:
    with StackSandbox(project_dir=REPO, context=CONTEXT) as deployed:
        yield deployed


def _delivery(time: str) -> dict[str, Any]:
    """The event the deployed schedule sends: its target Input, Scheduler's attribute filled in."""
    template = json.loads((synth_app(REPO, CONTEXT) / "Stratoflow.template.json").read_text())
    (schedule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    text = schedule["Properties"]["Target"]["Input"].replace(protocol.SCHEDULED_TIME_ATTRIBUTE, time)
    event: dict[str, Any] = json.loads(text)
    return event


def _invoke(stack: StackSandbox, event: dict[str, Any]) -> dict[str, Any]:
    assert stack.deployment.schedule_function is not None
    answer = stack.aws.client("lambda").invoke(
        FunctionName=stack.deployment.schedule_function, Payload=json.dumps(event).encode()
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    result: dict[str, Any] = json.loads(answer["Payload"].read())
    return result


def _executions(stack: StackSandbox) -> list[dict[str, Any]]:
    sfn = stack.aws.client("stepfunctions")
    arn = stack.client.state_machines["daily_report"]
    return [dict(e) for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


def test_moto_creates_no_scheduler_schedule(stack: StackSandbox) -> None:
    """Canary: moto's CloudFormation skips AWS::Scheduler::Schedule, so the tests deliver the
    schedule's event themselves. When this fails, moto creates schedules: read their targets
    from moto's scheduler instead of the template."""
    assert "AWS::Scheduler::Schedule" in stack.deployment.skipped_resource_types


def test_a_delivery_twice_starts_one_run_that_succeeds_with_the_plans_inputs(
    stack: StackSandbox, tmp_path: Path
) -> None:
    event = _delivery(SCHEDULED)
    first = _invoke(stack, event)
    second = _invoke(stack, event)
    run_id = protocol.scheduled_run_id("nightly_report", SCHEDULED)
    assert first["run_id"] == second["run_id"] == run_id == "nightly_report-20261201T020000Z"
    assert first["status"] == "started"
    assert second["status"] in ("started", "duplicate")  # started: the run is still going (same name, input)
    started = [e for e in _executions(stack) if e["name"] == run_id]
    assert len(started) == 1
    plan = load_launch_plan(str(EXAMPLE), "nightly_report")
    spec = lower(plan.workflow)
    execution = Execution(stack.client, spec, run_id, started[0]["executionArn"]).wait(timeout=60)
    day = datetime(2026, 12, 1, 2, tzinfo=UTC)
    local = run_local(spec, plan.merged_inputs({}, kickoff=day), RunOptions(home=tmp_path, progress=False))
    assert execution.outputs() == local.outputs
    assert (
        execution.outputs()["o0"]
        == "report for 2026-12-01T02:00:00+00:00: eu-2026-12-01-1, eu-2026-12-01-2, eu-2026-12-01-3"
    )
    # A delivery after the run finished starts nothing either.
    assert _invoke(stack, event)["status"] == "duplicate"
    assert len([e for e in _executions(stack) if e["name"] == run_id]) == 1
    assert stack.aws.runtime_errors() == []


def test_another_occurrence_is_another_run(stack: StackSandbox) -> None:
    later = "2026-12-02T02:00:00Z"
    started = _invoke(stack, _delivery(later))
    assert started["status"] == "started"
    assert started["run_id"] == protocol.scheduled_run_id("nightly_report", later)
    assert started["run_id"] in {e["name"] for e in _executions(stack)}
    spec = lower(load_launch_plan(str(EXAMPLE), "nightly_report").workflow)
    # Waited for, so no run outlives the test (and its sandbox).
    finished = Execution(stack.client, spec, started["run_id"], started["execution_arn"]).wait(timeout=60)
    assert finished.outputs()["o0"].startswith("report for 2026-12-02T02:00:00+00:00: eu-2026-12-02-1")


def test_a_plan_run_by_hand_keeps_its_fixed_inputs(stack: StackSandbox) -> None:
    plan = load_launch_plan(str(EXAMPLE), "nightly_report")
    with pytest.raises(InputError, match="input 'region' is fixed by launch plan 'nightly_report'"):
        stack.client.run(plan, region="us")
    execution = stack.client.run(plan, top=1, day=datetime(2026, 1, 2, tzinfo=UTC)).wait(timeout=60)
    assert execution.run_id.startswith(protocol.plan_run_prefix("nightly_report"))
    assert execution.outputs()["o0"] == "report for 2026-01-02T00:00:00+00:00: eu-2026-01-02-1"
