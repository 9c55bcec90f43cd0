"""Flyte's failure handling: the same nodes run and the same error locally and on emulated AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow import ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import failure_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _fail_both(
    sandbox: Sandbox, spec: ir.WorkflowSpec, inputs: dict[str, object], home: Path
) -> tuple[list[tuple[str, str]], TaskFailedError, list[tuple[str, str]], TaskFailedError]:
    """What ran and the error, locally then on emulated AWS."""
    failure_flows.EVENTS.clear()
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, inputs, RunOptions(home=home, progress=False, retry_base_seconds=0.01))
    local_events = sorted(failure_flows.EVENTS)
    failure_flows.EVENTS.clear()
    with pytest.raises(TaskFailedError) as emulated:
        sandbox.run(spec, inputs)
    return local_events, local.value, sorted(failure_flows.EVENTS), emulated.value


def test_on_failure_runs_with_the_workflow_inputs_and_the_run_keeps_its_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(failure_flows.with_cleanup)
    local_events, local, emulated_events, emulated = _fail_both(
        sandbox, spec, {"name": "c1", "a": 3}, tmp_path
    )
    expected = [("clean_up", "c1"), ("create_cluster", "c1")]
    assert local_events == emulated_events == expected
    assert local.node == emulated.node == "boom"
    assert local.error_type == emulated.error_type == "ValueError"
    assert "Fail! a=3" in str(local) and str(local).split(": ", 1)[1] in str(emulated)


def test_on_failure_receives_the_error_as_a_flyte_error(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(failure_flows.reports)
    local_events, local, emulated_events, _ = _fail_both(sandbox, spec, {"name": "r1", "a": 4}, tmp_path)
    expected = [("report", f"r1 boom: {local}")]
    assert local_events == emulated_events == expected
    assert "ValueError: Fail! a=4" in str(local)


def test_a_workflow_handler_runs_its_task_with_the_inputs_and_the_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(failure_flows.reports_through_a_workflow)
    assert spec.on_failure is not None and spec.tasks[spec.on_failure.task].name == "report"
    local_events, local, emulated_events, _ = _fail_both(sandbox, spec, {"cluster": "w1", "a": 5}, tmp_path)
    assert local_events == emulated_events == [("report", f"w1 boom: {local}")]


def test_on_failure_does_not_run_when_the_workflow_succeeds(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(failure_flows.cleanup_not_needed)
    failure_flows.EVENTS.clear()
    run_local(spec, {"name": "c2"}, RunOptions(home=tmp_path, progress=False))
    sandbox.run(spec, {"name": "c2"})
    assert failure_flows.EVENTS == [("create_cluster", "c2"), ("create_cluster", "c2")]


def test_fail_immediately_starts_nothing_after_a_failure(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(failure_flows.fails_immediately)
    local_events, local, emulated_events, emulated = _fail_both(sandbox, spec, {"a": 1, "n": 5}, tmp_path)
    assert ("after_sibling", "5") not in local_events
    assert ("after_sibling", "5") not in emulated_events
    assert local.node == emulated.node == "boom"


def test_fail_after_executable_nodes_complete_lets_an_independent_chain_finish(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(failure_flows.runs_to_completion)
    inputs = {"a": 2, "n": 7, "name": "c3"}  # n: not the n of a test whose AWS run may still be going
    local_events, local, emulated_events, emulated = _fail_both(sandbox, spec, inputs, tmp_path)
    expected = [("after_sibling", "7"), ("clean_up", "c3"), ("slow_sibling", "7")]
    # Only this run's events: a task of an earlier AWS run that failed fast may still be finishing.
    ours = {"7", "c3"}
    assert (
        [e for e in local_events if e[1] in ours] == [e for e in emulated_events if e[1] in ours] == expected
    )
    assert local.node == emulated.node == "boom"
    assert local.error_type == emulated.error_type == "ValueError"
    assert str(local).split(": ", 1)[1] in str(emulated)
