"""Per-node records of local runs (``RunHistory.nodes``), the run's spec, and node log files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from stratoflow import ir, task, workflow
from stratoflow.backends.local import RunHistory, RunOptions, run_recorded
from stratoflow.cache import default_home
from stratoflow.cli._node_logs import read_node_log
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from tests.local import _record_flows as flows
from tests.local._map_modes import in_mode

S = ir.NodeStatus


def _history() -> RunHistory:
    return RunHistory(default_home() / "runs.sqlite")


def _by_key(run_id: str) -> dict[tuple[str, int | None], ir.NodeRecord]:
    return {(r.node, r.item): r for r in _history().nodes(run_id)}


def test_a_run_records_each_node_and_map_item_as_it_went(fast_options: RunOptions) -> None:
    run = run_recorded(lower(flows.recorded), {"n": 4}, fast_options)
    records = _by_key(run.run_id)
    assert set(records) == {
        ("spread", None),
        ("flaky", None),
        ("map_shout", None),
        *(("map_shout", i) for i in range(4)),
        ("add", None),
        ("sign", None),
        ("keep", None),
        ("negate", None),
    }
    spread = records["spread", None]
    assert (spread.status, spread.attempts, spread.cache_hit, spread.target) == (
        S.SUCCEEDED,
        1,
        False,
        "local-thread",
    )
    assert spread.cache_key is not None  # the workflow's cache item: <workflow>/<sha256>
    workflow, _, digest = spread.cache_key.partition("/")
    assert (workflow, len(digest)) == ("recorded", 64)
    assert spread.started is not None and spread.finished is not None and spread.finished >= spread.started
    flaky = records["flaky", None]
    assert (flaky.status, flaky.attempts, flaky.error) == (
        S.SUCCEEDED,
        2,
        None,
    )  # failed once, then succeeded
    bad = records["map_shout", 2]
    assert (bad.status, bad.attempts, bad.target) == (S.FAILED, 1, "local-thread")
    assert bad.error == "task in node 'map_shout[2]' failed (attempt 1): ValueError: two is not allowed (x=2)"
    assert bad.traceback is not None
    assert bad.traceback.endswith("ValueError: two is not allowed (x=2)\n")
    assert 'raise ValueError(f"two is not allowed (x={x})")' in bad.traceback
    assert "stratoflow/runtime" not in bad.traceback  # the user's frames only
    assert [records["map_shout", i].status for i in (0, 1, 3)] == [S.SUCCEEDED] * 3
    parent = records["map_shout", None]
    assert (parent.status, parent.target, parent.item) == (S.SUCCEEDED, "none", None)  # tolerated: 3 of 4
    assert records["sign", None].status == S.SUCCEEDED
    assert records["keep", None].status == S.SUCCEEDED
    negate = records["negate", None]
    assert (negate.status, negate.attempts, negate.started, negate.target) == (S.SKIPPED, 0, None, "none")
    assert all(r.run_id == run.run_id for r in records.values())
    # Nodes come in the order they started; a map's items follow it.
    names = [(r.node, r.item) for r in _history().nodes(run.run_id)]
    assert names.index(("spread", None)) < names.index(("map_shout", None)) < names.index(("map_shout", 0))
    assert names.index(("map_shout", 3)) < names.index(("add", None)) < names.index(("negate", None))


def test_a_second_run_records_the_cache_hit_with_the_same_key(fast_options: RunOptions) -> None:
    first = run_recorded(lower(flows.recorded), {"n": 4}, fast_options)
    second = run_recorded(lower(flows.recorded), {"n": 4}, fast_options)
    before, after = _by_key(first.run_id)["spread", None], _by_key(second.run_id)["spread", None]
    assert (after.status, after.cache_hit, after.attempts, after.target, after.logs) == (
        S.CACHED,
        True,
        0,
        "none",
        None,
    )
    assert after.cache_key == before.cache_key
    assert _by_key(second.run_id)["flaky", None].attempts == 2  # not cached: it retried again


def test_cached_map_items_are_recorded_cached() -> None:
    options = RunOptions(retry_base_seconds=0.01, progress=False)
    first = run_recorded(lower(flows.cached_items), {"n": 3}, options)
    second = run_recorded(lower(flows.cached_items), {"n": 3}, options)
    assert {r.status for r in _history().nodes(first.run_id) if r.item is not None} == {S.SUCCEEDED}
    items = [r for r in _history().nodes(second.run_id) if r.item is not None]
    assert [(r.item, r.status, r.cache_hit, r.attempts, r.target) for r in items] == [
        (i, S.CACHED, True, 0, "none") for i in range(3)
    ]
    assert all(r.cache_key for r in items)


def test_a_failed_run_records_the_error_it_reports_and_the_nodes_never_reached(
    fast_options: RunOptions,
) -> None:
    with pytest.raises(TaskFailedError) as raised:
        run_recorded(lower(flows.failing), {"n": 2}, fast_options)
    (run,) = _history().list()
    records = _by_key(run.run_id)
    boom = records["boom", None]
    assert (boom.status, boom.attempts) == (S.FAILED, 1)
    assert boom.error == str(raised.value) == run.error
    assert boom.traceback is not None and "KeyError: 'no key 2'" in boom.traceback
    assert records["after", None].status == S.SKIPPED


def test_map_items_on_processes_are_recorded_with_their_logs(fast_options: RunOptions) -> None:
    run = run_recorded(in_mode(lower(flows.recorded), "processes"), {"n": 4}, fast_options)
    records = _by_key(run.run_id)
    assert [records["map_shout", i].status for i in range(4)] == [
        S.SUCCEEDED,
        S.SUCCEEDED,
        S.FAILED,
        S.SUCCEEDED,
    ]
    assert {records["map_shout", i].target for i in range(4)} == {"local-process"}
    assert records["map_shout", 2].traceback is not None
    assert "item says 3" in read_node_log(records["map_shout", 3])  # written by the forked worker


def test_dynamic_children_are_recorded_under_their_parent(fast_options: RunOptions) -> None:
    run = run_recorded(lower(flows.with_dynamic), {"n": 2}, fast_options)
    records = _by_key(run.run_id)
    assert records["fan", None].status == S.SUCCEEDED
    children = sorted({node for node, _ in records if node.startswith("fan/")})
    assert len(children) == 3  # spread, the map, add
    mapped = [node for node in children if "map_shout" in node]
    assert [records[mapped[0], i].status for i in range(2)] == [S.SUCCEEDED, S.SUCCEEDED]
    assert "item says 1" in read_node_log(records[mapped[0], 1])


def test_a_nodes_log_has_what_it_printed_and_logged_and_the_terminal_still_sees_it(
    fast_options: RunOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_recorded(lower(flows.recorded), {"n": 4}, fast_options)
    records = _by_key(run.run_id)
    two = read_node_log(records["map_shout", 2])
    assert "item says 2\n" in two
    assert "INFO" in two and "item logs 2" in two  # current_context().logging
    assert "item says 1" not in two and "item says 3" not in two  # each item its own file
    assert read_node_log(records["add", None]) == "adding up\n"  # stderr
    assert read_node_log(records["flaky", None]) == ""  # wrote nothing: no file at all
    assert (
        records["flaky", None].logs is not None and not Path(str(records["flaky", None].logs.path)).exists()
    )
    assert read_node_log(records["negate", None]) == ""  # skipped: no log
    captured = capsys.readouterr()
    assert "item says 2" in captured.out and "spreading 4" in captured.out
    assert "adding up" in captured.err


def test_the_run_keeps_its_spec() -> None:
    spec = lower(flows.recorded)
    run = run_recorded(spec, {"n": 1}, RunOptions(retry_base_seconds=0.01, progress=False))
    assert _history().spec(run.run_id) == spec
    assert _history().spec("no-such-run") is None
    assert _history().nodes("no-such-run") == []


GO = threading.Event()


@task
def waits() -> int:
    assert GO.wait(20)
    return 1


@workflow
def slow() -> int:
    return waits()


def test_a_running_run_shows_its_running_node_to_a_reader(fast_options: RunOptions) -> None:
    GO.clear()
    done: list[int] = []
    runner = threading.Thread(
        target=lambda: done.append(run_recorded(lower(slow), {}, fast_options).outputs["o0"])
    )
    runner.start()
    try:
        deadline = time.monotonic() + 10
        seen: list[ir.NodeRecord] = []
        while time.monotonic() < deadline and not seen:
            runs = list(_history().list())
            seen = _history().nodes(runs[0].run_id) if runs else []
            time.sleep(0.05)
        assert [(r.node, r.status, r.finished) for r in seen] == [("waits", S.RUNNING, None)]
    finally:
        GO.set()
        runner.join(20)
    assert done == [1]
    (record,) = _history().nodes(next(_history().list()).run_id)
    assert record.status == S.SUCCEEDED


def test_actor_nodes_and_items_are_recorded_with_the_workers_logs(fast_options: RunOptions) -> None:
    run = run_recorded(lower(flows.on_actors), {"n": 2}, fast_options)
    records = _by_key(run.run_id)
    single = records["on_actor", None]
    assert (single.status, single.attempts, single.target) == (S.SUCCEEDED, 1, "actor")
    assert read_node_log(single) == "actor item 2\n"  # printed in the worker process
    items = [records["map_on_actor", i] for i in range(3)]
    assert [(r.status, r.target) for r in items] == [(S.SUCCEEDED, "actor")] * 3
    assert read_node_log(items[1]) == "actor item 1\n"
