"""`stratoflow executions show RUN [--json] [--items]` and `stratoflow logs RUN NODE [--item N]`."""

from __future__ import annotations

import json

import pytest

from stratoflow.backends.local import RunHistory
from stratoflow.cache import default_home
from stratoflow.cli import main
from tests.local import _record_flows

FLOWS = _record_flows.__file__


def _run(capsys: pytest.CaptureFixture[str], workflow: str = "recorded", code: int = 0) -> str:
    assert main(["run", "--json", FLOWS, workflow]) == code
    capsys.readouterr()
    return next(RunHistory(default_home() / "runs.sqlite").list()).run_id


def _rows(text: str) -> dict[str, list[str]]:
    """The node table's rows by node name (its cells split on runs of two spaces)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("NODE "))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1 :]:
        cells = [cell.strip() for cell in line.strip().split("  ") if cell.strip()]
        rows[cells[0]] = cells
    return rows


def test_show_prints_a_row_per_node_with_map_items_counted(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys)
    assert main(["executions", "show", run_id[:8]]) == 0
    shown = capsys.readouterr().out
    assert "status    SUCCEEDED" in shown
    rows = _rows(shown)
    assert set(rows) == {"spread", "flaky", "map_shout", "add", "sign", "keep", "negate"}
    assert rows["spread"][:4] == ["spread", "succeeded", "1", "local-thread"]
    assert rows["spread"][5] == "miss"
    assert rows["flaky"][:3] == ["flaky", "succeeded", "2"]
    assert rows["map_shout"][1] == "succeeded"
    assert "3 ok / 1 failed / 0 cached" in rows["map_shout"]
    assert rows["negate"][:4] == ["negate", "skipped", "-", "none"]
    assert "map_shout[2]" not in shown  # items only with --items


def test_show_items_lists_every_item_with_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys)
    assert main(["executions", "show", run_id, "--items"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [rows[f"map_shout[{i}]"][1] for i in range(4)] == ["succeeded", "succeeded", "failed", "succeeded"]
    assert (
        rows["map_shout[2]"][-1]
        == "task in node 'map_shout[2]' failed (attempt 1): ValueError: two is not allowed (x=2)"
    )


def test_show_of_a_second_run_shows_the_cache_hit(capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys)
    run_id = _run(capsys)
    assert main(["executions", "show", run_id]) == 0
    spread = _rows(capsys.readouterr().out)["spread"]
    assert spread[:4] == ["spread", "cached", "-", "none"]
    assert "hit" in spread


def test_show_json_prints_the_run_and_its_records_only(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys)
    assert main(["executions", "show", run_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)  # nothing but JSON on stdout
    assert shown["run"]["run_id"] == run_id
    assert shown["run"]["status"] == "SUCCEEDED"
    nodes = {(n["node"], n["item"]): n for n in shown["nodes"]}
    assert nodes["flaky", None]["attempts"] == 2
    assert nodes["map_shout", 2]["status"] == "failed"
    assert nodes["map_shout", 2]["error"].endswith("ValueError: two is not allowed (x=2)")
    assert nodes["negate", None]["status"] == "skipped"
    assert nodes["spread", None]["logs"]["kind"] == "file"


def test_show_of_a_failed_run_names_the_failed_node(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys, "failing", code=1)
    assert main(["executions", "show", run_id]) == 0
    shown = capsys.readouterr().out
    assert "status    FAILED" in shown
    rows = _rows(shown)
    assert rows["boom"][:3] == ["boom", "failed", "1"]
    assert rows["boom"][-1] == "task in node 'boom' failed (attempt 1): KeyError: 'no key 1'"
    assert rows["after"][1] == "skipped"


def test_show_and_logs_of_an_unknown_run_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["executions", "show", "nope", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no single local run matches 'nope'" in captured.err
    assert main(["logs", "nope", "add"]) == 2


def test_logs_prints_a_nodes_and_a_map_items_log(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys)
    assert main(["logs", run_id, "map_shout", "--item", "2"]) == 0
    item = capsys.readouterr().out
    assert item.startswith("item says 2\n")
    assert "item logs 2" in item
    assert main(["logs", run_id, "add"]) == 0
    assert capsys.readouterr().out == "adding up\n"
    assert main(["logs", run_id, "map_shout"]) == 0  # every item's, each under its header
    every = capsys.readouterr().out
    assert [line for line in every.splitlines() if line.startswith("==")] == [
        f"== map_shout[{i}] ==" for i in range(4)
    ]


def test_logs_of_an_unknown_node_names_the_runs_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _run(capsys)
    assert main(["logs", run_id, "nope"]) == 2
    err = capsys.readouterr().err
    assert f"error: no node 'nope' in run {run_id}" in err
    assert "add, flaky, keep, map_shout, negate, sign, spread" in err
    assert main(["logs", run_id, "map_shout", "--item", "9"]) == 2
    assert "no item 9 of node 'map_shout'" in capsys.readouterr().err
