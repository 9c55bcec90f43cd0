"""What ``Client.node_records`` fills in beyond what the runner wrote: a timed-out node, nodes a
failed run never reached, and a ``@dynamic`` node with its children (recorded as locally)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stratoflow import ir
from stratoflow.backends.local import RunHistory, RunOptions, run_local, run_recorded
from stratoflow.cache import default_home
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import failure_flows, lang_flows, parity_flows
from tests.local import _record_flows as flows

pytestmark = pytest.mark.emulated

S = ir.NodeStatus


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _records(sandbox: Sandbox, spec: ir.WorkflowSpec, inputs: dict[str, int]) -> list[ir.NodeRecord]:
    sandbox.deploy(spec)
    assert sandbox.client is not None
    execution = sandbox.client.submit(spec, inputs)
    with pytest.raises(TaskFailedError):
        execution.wait(timeout=90)
    return execution.node_records()


def test_a_timed_out_node_is_failed_with_the_timeout_in_the_local_words(sandbox: Sandbox) -> None:
    spec = lower(parity_flows.times_out)
    (record,) = _records(sandbox, spec, {"x": 3})
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {"x": 3}, RunOptions(retry_base_seconds=0.01, progress=False))
    assert (record.node, record.status, record.attempts) == ("sleepy", S.FAILED, 2)
    assert record.error == "node 'sleepy' timed out after 1s (attempt 2)"
    assert str(local.value).startswith(record.error)


def test_a_failed_run_records_the_failed_node_and_skips_the_unreached(sandbox: Sandbox) -> None:
    records = {r.node: r for r in _records(sandbox, lower(flows.failing), {"n": 1})}
    assert (records["boom"].status, records["boom"].attempts, records["boom"].target) == (
        S.FAILED,
        1,
        "lambda",
    )
    assert records["boom"].error is not None and "KeyError" in records["boom"].error
    assert (records["after"].status, records["after"].started) == (S.SKIPPED, None)


def test_a_dynamic_node_and_its_children_record_as_locally(sandbox: Sandbox) -> None:
    spec = lower(flows.with_dynamic)
    assert sandbox.client is not None
    remote = sandbox.client.node_records(sandbox.run(spec, {"n": 2}, timeout=90).run_id)
    options = RunOptions(retry_base_seconds=0.01, progress=False)
    local = RunHistory(default_home() / "runs.sqlite").nodes(run_recorded(spec, {"n": 2}, options).run_id)

    def outcomes(records: list[ir.NodeRecord]) -> dict[tuple[str, int | None], tuple[S, int, bool]]:
        return {(r.node, r.item): (r.status, r.attempts, r.cache_hit) for r in records}

    assert outcomes(remote) == outcomes(local)
    fan = next(r for r in remote if r.node == "fan")
    assert fan.target == "lambda" and fan.started is not None and fan.finished is not None
    assert all(r.run_id == remote[0].run_id for r in remote)


def _local_records(spec: ir.WorkflowSpec, inputs: dict[str, object]) -> list[ir.NodeRecord]:
    options = RunOptions(retry_base_seconds=0.01, progress=False)
    return RunHistory(default_home() / "runs.sqlite").nodes(run_recorded(spec, inputs, options).run_id)


def _timed(records: list[ir.NodeRecord]) -> list[tuple[str, S, int, bool, bool]]:
    return [(r.node, r.status, r.attempts, r.started is not None, r.finished is not None) for r in records]


def test_conditionals_record_when_they_decided_and_finished_as_locally(sandbox: Sandbox) -> None:
    # The runner steps that decide and finish a conditional write its record: before, an emulated
    # one had no times and sorted after the nodes of the case it took.
    spec = lower(lang_flows.fractions)
    remote = sandbox.run(spec, {"x": 2.0}, timeout=90).node_records()
    assert (
        _timed(remote)
        == _timed(_local_records(spec, {"x": 2.0}))
        == [
            ("fractions", S.SUCCEEDED, 0, True, True),
            ("small", S.SUCCEEDED, 0, True, True),
            ("square", S.SUCCEEDED, 1, True, True),
            ("double_2", S.SUCCEEDED, 1, True, True),
            ("double", S.SKIPPED, 0, False, False),
            ("negate", S.SKIPPED, 0, False, False),
        ]
    )


def test_a_failure_handler_a_run_did_not_need_is_not_listed_as_locally(sandbox: Sandbox) -> None:
    spec = lower(failure_flows.cleanup_not_needed)
    remote = sandbox.run(spec, {"name": "c1"}, timeout=90).node_records()
    assert (
        [r.node for r in remote]
        == [r.node for r in _local_records(spec, {"name": "c1"})]
        == ["create_cluster"]
    )
