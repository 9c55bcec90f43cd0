"""The UI's JSON API over the local run history (Starlette's TestClient: no server, no browser)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest
from starlette.testclient import TestClient

from stratoflow.backends.local import RunHistory, RunOptions, run_recorded
from stratoflow.cache import SqliteCacheStore, default_home
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.ui import LocalSource, _records, create_app
from tests.ui import _ui_flows


@pytest.fixture
def api() -> Iterator[TestClient]:
    with TestClient(create_app(LocalSource(default_home()))) as client:
        yield client


def _two_runs(options: RunOptions) -> tuple[str, str]:
    spec = lower(_ui_flows.squares)
    ok = run_recorded(spec, {"n": 3, "limit": 100}, options)
    with pytest.raises(TaskFailedError):
        run_recorded(spec, {"n": 3, "limit": 1}, options)
    failed = next(r.run_id for r in RunHistory(default_home() / "runs.sqlite").list() if r.status == "FAILED")
    return ok.run_id, failed


def test_runs_are_listed_newest_first_and_filter_by_workflow_and_status(
    api: TestClient, fast_options: RunOptions
) -> None:
    ok, failed = _two_runs(fast_options)
    listed = api.get("/api/runs").json()
    runs = listed["runs"]
    assert listed["workflows"] == ["squares"]
    assert listed["source"] == f"local runs in {default_home()}"
    assert [r["run_id"] for r in runs] == [failed, ok]
    assert runs[1]["workflow"] == "squares"
    assert runs[1]["duration"] == pytest.approx(runs[1]["finished"] - runs[1]["started"], abs=1e-3)
    assert [r["run_id"] for r in api.get("/api/runs?status=failed").json()["runs"]] == [failed]
    assert api.get("/api/runs?workflow=other").json()["runs"] == []
    assert len(api.get("/api/runs?limit=1").json()["runs"]) == 1
    bad = api.get("/api/runs?limit=many")
    assert bad.status_code == 400
    assert "limit" in bad.json()["error"] or "many" in bad.json()["error"]


def test_a_run_has_its_outputs_error_and_graph(api: TestClient, fast_options: RunOptions) -> None:
    ok, failed = _two_runs(fast_options)
    run = api.get(f"/api/runs/{ok}").json()
    assert (run["status"], run["outputs"], run["error"]) == ("SUCCEEDED", {"o0": 14}, None)
    spec = lower(_ui_flows.squares)
    drawn = {box["id"] for box in run["spec"]["graph"]["nodes"]}
    assert {node.id for node in spec.nodes} <= drawn
    mapped = next(node for node in spec.nodes if node.kind == "map")
    assert run["spec"]["nodes"][mapped.id]["kind"] == "map"
    assert run["spec"]["nodes"][mapped.id]["task"] == "square"
    gone = api.get(f"/api/runs/{failed}").json()
    assert gone["status"] == "FAILED"
    assert "total 14 is over the limit 1" in gone["error"]


def test_unknown_runs_and_routes_are_404_with_a_reason(api: TestClient) -> None:
    missing = api.get("/api/runs/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no run 'nope'"}
    assert api.get("/api/runs/nope/nodes").status_code == 404
    assert api.get("/api/runs/nope/nodes/n0/logs").status_code == 404
    assert api.get("/api/nothing").status_code == 404


def test_the_page_and_its_assets_are_served_from_the_package(api: TestClient) -> None:
    page = api.get("/")
    assert page.status_code == 200
    assert "/static/app.js" in page.text
    for asset in ("app.js", "app.css"):
        assert api.get(f"/static/{asset}").status_code == 200
    # Everything is local: no asset is fetched from another host.
    assert "http" not in page.text.replace("http-equiv", "")


def test_node_records_and_logs_come_from_the_run_history(api: TestClient, fast_options: RunOptions) -> None:
    ok, failed = _two_runs(fast_options)
    spec = lower(_ui_flows.squares)
    mapped = next(node.id for node in spec.nodes if node.kind == "map")
    nodes = api.get(f"/api/runs/{ok}/nodes").json()["nodes"]
    assert {(n["node"], n["item"]) for n in nodes} == {(node.id, None) for node in spec.nodes} | {
        (mapped, i) for i in range(3)
    }
    assert {n["status"] for n in nodes} == {"succeeded"}
    for record in nodes:
        assert record["duration"] == pytest.approx(record["finished"] - record["started"], abs=1e-3)
    item = api.get(f"/api/runs/{ok}/nodes/{mapped}/logs?item=1").json()
    assert (item["node"], item["item"], item["text"]) == (mapped, 1, "squaring 2\n")
    assert item["location"]["kind"] == "file"
    assert api.get(f"/api/runs/{ok}/nodes/{mapped}/logs?item=7").status_code == 404
    assert api.get(f"/api/runs/{ok}/nodes/nowhere/logs").status_code == 404
    check = next(
        n for n in api.get(f"/api/runs/{failed}/nodes").json()["nodes"] if n["node"] == spec.nodes[-1].id
    )
    assert check["status"] == "failed"
    assert "total 14 is over the limit 1" in check["error"]
    assert "raise ValueError" in check["traceback"]
    assert (
        api.get(f"/api/runs/{failed}/nodes/{check['node']}/logs").json()["text"] == "checking 14 against 1\n"
    )


def test_a_run_without_a_recorded_spec_draws_the_workflow_its_ref_names() -> None:
    older = cast(RunHistory, SimpleNamespace(spec=lambda run_id: None))  # recorded before specs were kept
    spec = _records.local_spec(older, "any", "tests.ui._ui_flows:squares")
    assert spec is not None
    assert spec.name == "squares"
    assert _records.spec_from_ref("tests.ui._ui_flows:no_such_workflow") is None


def test_a_cached_nodes_outputs_are_previewed_from_its_cache_entry(
    api: TestClient, fast_options: RunOptions
) -> None:
    first = run_recorded(lower(_ui_flows.cached_double), {"x": 21}, fast_options)
    again = run_recorded(lower(_ui_flows.cached_double), {"x": 21}, fast_options)
    ((key, _),) = list(SqliteCacheStore(default_home() / "cache.sqlite").entries())
    for run, hit in ((first, False), (again, True)):
        (node,) = api.get(f"/api/runs/{run.run_id}/nodes").json()["nodes"]
        assert (node["cache_key"], node["cache_hit"], node["outputs"]) == (key, hit, {"o0": "42"})


def test_every_finished_node_s_outputs_are_previewed_cached_or_not(
    api: TestClient, fast_options: RunOptions
) -> None:
    ok, failed = _two_runs(fast_options)
    result = api.get(f"/api/runs/{ok}").json()["outputs"]["o0"]
    nodes = api.get(f"/api/runs/{ok}/nodes").json()["nodes"]
    shown = {n["node"]: n["outputs"] for n in nodes if n["item"] is None}
    assert shown["check"] == {"o0": json.dumps(result)}  # the run's output is its last node's
    assert all(outputs is not None for outputs in shown.values()), shown
    assert json.loads(shown["map_square"]["o0"]) == [1, 4, 9]  # a map node's output: its items' list
    assert {n["outputs"] for n in nodes if n["item"] is not None} == {None}  # items: the map's list
    gone = {n["node"]: n for n in api.get(f"/api/runs/{failed}/nodes").json()["nodes"] if n["item"] is None}
    assert gone["check"]["status"] == "failed"
    assert gone["check"]["outputs"] is None
    assert gone["total"]["outputs"] is not None
