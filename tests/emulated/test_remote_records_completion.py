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
from tests.emulated import parity_flows
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
