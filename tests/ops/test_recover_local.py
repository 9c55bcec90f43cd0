"""Local recovery from the run history: a failed run recovered reuses every node and map item that
succeeded (uncached: their functions are not called again) and succeeds after the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow.backends.local import RunHistory, RunOptions, recover_recorded, run_recorded
from stratoflow.errors import ConfigError, TaskFailedError
from stratoflow.lower import lower
from tests.ops import recover_flows
from tests.ops.recover_flows import calls


def _options(home: Path) -> RunOptions:
    return RunOptions(home=home, progress=False, retry_base_seconds=0.01)


def _failed_run(home: Path, wf: object, inputs: dict[str, object]) -> str:
    with pytest.raises(TaskFailedError):
        run_recorded(lower(wf), inputs, _options(home))  # type: ignore[arg-type]
    (record,) = RunHistory(home / "runs.sqlite").list()
    assert record.status == "FAILED"
    return record.run_id


def test_a_recovered_run_reuses_the_succeeded_uncached_nodes_and_succeeds_after_the_fix(
    tmp_path: Path,
) -> None:
    folder, home = tmp_path / "work", tmp_path / "home"
    folder.mkdir()
    failed = _failed_run(home, recover_flows.pipeline, {"folder": str(folder)})
    assert sorted(calls(folder)) == ["audit", "extract", "fragile"]
    # Not fixed yet: it fails again, and still does not call extract or audit again.
    with pytest.raises(TaskFailedError, match="not fixed yet"):
        recover_recorded(failed[:8], _options(home))
    assert sorted(calls(folder)) == ["audit", "extract", "fragile", "fragile"]
    (folder / "fixed").touch()
    run = recover_recorded(failed, _options(home))
    assert run.outputs == {"o0": "audited: 10"}
    assert run.recovered == {"extract", "audit"}
    assert sorted(calls(folder)) == ["audit", "extract", "fragile", "fragile", "fragile"]
    records = {r.run_id: r for r in RunHistory(home / "runs.sqlite").list()}
    assert records[run.run_id].status == "SUCCEEDED"
    assert run.run_id.startswith(f"{failed}-r")


def test_a_recovered_map_reruns_only_its_failed_items(tmp_path: Path) -> None:
    folder, home = tmp_path / "work", tmp_path / "home"
    folder.mkdir()
    failed = _failed_run(home, recover_flows.fan_out, {"folder": str(folder)})
    first = calls(folder)
    assert sorted(first) == [f"item{i}" for i in range(7)]
    (folder / "fixed").touch()
    run = recover_recorded(failed, _options(home))
    assert run.outputs == {"o0": sum(i * 10 for i in range(7))}
    assert sorted(calls(folder)[len(first) :]) == ["item0", "item3", "item6"]
    assert "paths" in run.recovered


def test_recover_says_what_cannot_be_recovered(tmp_path: Path) -> None:
    folder, home = tmp_path / "work", tmp_path / "home"
    folder.mkdir()
    (folder / "fixed").touch()
    run_recorded(lower(recover_flows.pipeline), {"folder": str(folder)}, _options(home))
    (record,) = RunHistory(home / "runs.sqlite").list()
    with pytest.raises(ConfigError, match=f"run {record.run_id} succeeded: there is nothing to recover"):
        recover_recorded(record.run_id, _options(home))
    with pytest.raises(ConfigError, match="no local run 'nope' in the run history"):
        recover_recorded("nope", _options(home))
