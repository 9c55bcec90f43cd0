"""The "must show" of issue 13: one workflow with a cache hit (its second run), a retried node, a
failed map item the map tolerates, and a skipped case, run locally, in the sandbox
(``stratoflow run --sandbox``'s path, recorded in the run history) and on the emulated stack
(``Client.node_records``): the records agree on status, attempts and cache hit, per node and per
item. Only the targets differ (local threads, Lambda, Fargate, Fargate Spot)."""

from __future__ import annotations

from typing import Any

import pytest

from stratoflow import ir
from stratoflow.backends.local import RunHistory, RunOptions, run_recorded
from stratoflow.cache import default_home
from stratoflow.cli._sandbox import run_sandbox
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import records_flows
from tests.local import _record_flows

pytestmark = pytest.mark.emulated

S = ir.NodeStatus
Outcome = dict[tuple[str, int | None], tuple[S, int, bool]]
FLOWS = {"lambda": _record_flows.recorded, "containers": records_flows.recorded_big}


def _outcomes(records: list[ir.NodeRecord]) -> Outcome:
    return {(r.node, r.item): (r.status, r.attempts, r.cache_hit) for r in records}


def _targets(records: list[ir.NodeRecord]) -> dict[tuple[str, int | None], str]:
    return {(r.node, r.item): r.target for r in records}


def _local(spec: ir.WorkflowSpec) -> list[list[ir.NodeRecord]]:
    history = RunHistory(default_home() / "runs.sqlite")
    options = RunOptions(retry_base_seconds=0.01, progress=False)
    return [history.nodes(run_recorded(spec, {"n": 4}, options).run_id) for _ in range(2)]


def _sandboxed(spec: ir.WorkflowSpec) -> list[list[ir.NodeRecord]]:
    history = RunHistory(default_home() / "runs.sqlite")
    runs: list[list[ir.NodeRecord]] = []
    for _ in range(2):
        run_sandbox(spec, {"n": 4}, progress=False)
        newest = next(history.list(1))
        assert newest.backend == "sandbox"
        runs.append(history.nodes(newest.run_id))
    return runs


def _emulated(spec: ir.WorkflowSpec) -> list[list[ir.NodeRecord]]:
    # Its own emulator, after the sandbox runs (each ``run_sandbox`` starts and ends one).
    with Sandbox() as stack:
        assert stack.client is not None
        client = stack.client
        return [client.node_records(stack.run(spec, {"n": 4}, timeout=90).run_id) for _ in range(2)]


def _expected(names: dict[str, str]) -> list[Outcome]:
    """What every backend must record (``names``: role -> node id in this flow)."""
    ran: dict[tuple[str, int | None], tuple[S, int, bool]] = {
        (names["retried"], None): (S.SUCCEEDED, 2, False),  # failed once, then succeeded
        (names["map"], None): (S.SUCCEEDED, 0, False),  # tolerated: 3 of 4 items
        **{(names["map"], i): (S.SUCCEEDED, 1, False) for i in (0, 1, 3)},
        (names["map"], 2): (S.FAILED, 1, False),
        (names["add"], None): (S.SUCCEEDED, 1, False),
        ("sign", None): (S.SUCCEEDED, 0, False),
        (names["kept"], None): (S.SUCCEEDED, 1, False),
        (names["skipped"], None): (S.SKIPPED, 0, False),
    }
    first = {**ran, (names["cached"], None): (S.SUCCEEDED, 1, False)}
    second = {**ran, (names["cached"], None): (S.CACHED, 0, True)}
    return [first, second]


NAMES: dict[str, dict[str, str]] = {
    "lambda": {
        "cached": "spread", "retried": "flaky", "map": "map_shout", "add": "add", "kept": "keep",
        "skipped": "negate",
    },
    "containers": {
        "cached": "spread_big", "retried": "flaky_big", "map": "map_shout_big", "add": "add_up",
        "kept": "keep_it", "skipped": "negate_it",
    },
}  # fmt: skip


@pytest.mark.parametrize("flow", ["containers", "lambda"])
def test_local_sandbox_and_emulated_records_agree(flow: str) -> None:
    spec = lower(FLOWS[flow])
    expected = _expected(NAMES[flow])
    runs = {"local": _local(spec), "sandbox": _sandboxed(spec), "emulated": _emulated(spec)}
    for backend, (first, second) in runs.items():
        assert _outcomes(first) == expected[0], backend
        assert _outcomes(second) == expected[1], backend
        failed = next(r for r in first if r.status == S.FAILED)
        assert failed.error is not None and "two is not allowed (x=2)" in failed.error, backend
        assert failed.traceback is not None and failed.traceback.endswith("two is not allowed (x=2)\n")
    # The same error text everywhere, and the same cache key for the cached node.
    errors = {b: next(r.error for r in first if r.status == S.FAILED) for b, (first, _) in runs.items()}
    assert len(set(errors.values())) == 1, errors
    cached = NAMES[flow]["cached"]
    keys = {b: next(r.cache_key for r in first if r.node == cached) for b, (first, _) in runs.items()}
    assert len(set(keys.values())) == 1 and None not in keys.values(), keys
    targets: dict[str, Any] = {b: _targets(first) for b, (first, _) in runs.items()}
    names = NAMES[flow]
    assert targets["local"][names["retried"], None] == "local-thread"
    assert targets["local"][names["map"], 0] == "local-thread"
    if flow == "lambda":
        for backend in ("sandbox", "emulated"):
            assert targets[backend][names["retried"], None] == "lambda"
            assert targets[backend][names["map"], 0] == "lambda"
    else:
        for backend in ("sandbox", "emulated"):
            assert targets[backend][names["cached"], None] == "fargate"
            assert targets[backend][names["retried"], None] == "fargate-spot"  # interruptible
            assert targets[backend][names["map"], 0] == "fargate"
            assert targets[backend][names["add"], None] == "lambda"
    for backend in runs:
        assert targets[backend]["sign", None] == "none"
        assert targets[backend][names["skipped"], None] == "none"
