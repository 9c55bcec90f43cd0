"""The ``stratoflow`` command line: run (examples, --json, --inputs, input errors), graph, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stratoflow import cli
from stratoflow.cache import SqliteCacheStore
from tests._examples import SALES_CSV
from tests.conftest import EXAMPLES, REPO
from tests.local._tasks import count

ETL, FEATURES, TRAINING = (str(EXAMPLES / name) for name in ("etl.py", "features.py", "training.py"))
TASKS_FILE = str(REPO / "tests" / "local" / "_tasks.py")
CACHE_TASKS_FILE = str(REPO / "tests" / "local" / "_cache_tasks.py")


def stratoflow(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- running the examples -------------------------------------------------------------------------


def test_run_etl_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", ETL, "sales_report", "--data", str(SALES_CSV))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "workflow 'sales_report' succeeded"
    assert lines[1].startswith("  o0 = {")
    summary = json.loads(lines[1].split(" = ", 1)[1])
    assert summary["rows_in"] == 400
    report = json.loads(lines[2].split(" = ", 1)[1])
    assert json.loads(Path(report).read_text(encoding="utf-8")) == summary


def test_run_features_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", "--json", FEATURES, "features", "--days", "2")
    assert code == 0, err
    outputs = json.loads(out)
    assert set(outputs) == {"o0"}
    assert set(outputs["o0"]) == {"sessions", "median_events", "users", "mean_user_seconds", "fingerprint"}


def test_run_training_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", "--json", TRAINING, "training", "--parts", "4")
    assert code == 0, err
    model, good = json.loads(out)["o0"], json.loads(out)["o1"]
    assert model["chunks"] == 4.0
    assert good is True


def test_json_prints_only_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", "--json", ETL, "sales_report", "--data", str(SALES_CSV))
    assert code == 0, err
    assert out.endswith("\n")
    assert len(out.splitlines()) == 1
    outputs = json.loads(out)  # the whole of stdout parses
    assert set(outputs) == {"o0", "o1"}
    assert err == ""


def test_real_entry_point_in_a_subprocess(subprocess_env: dict[str, str], stratoflow_home: Path) -> None:
    exe = Path(sys.executable).with_name("stratoflow")
    assert exe.is_file()
    proc = subprocess.run(
        [str(exe), "run", "--json", "--inputs", '{"days": 1}', FEATURES, "features"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=subprocess_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["o0"]["users"] > 0
    assert proc.stderr == ""
    # The run used the isolated home: its cache now has the four feature tasks.
    tasks = {entry.task for _, entry in SqliteCacheStore(stratoflow_home / "cache.sqlite").entries()}
    assert tasks == {f"features:{t}" for t in ("load_events", "user_stats", "session_stats", "join_features")}


def test_python_dash_m_entry_point(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stratoflow.cli", "graph", FEATURES, "features"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=subprocess_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flowchart TD\n")


# --- inputs -------------------------------------------------------------------------------------


def test_inputs_json_and_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, by_json, _ = stratoflow(
        capsys, "run", "--json", "--inputs", '{"days": 1, "seed": 7}', FEATURES, "features"
    )
    _, by_flags, _ = stratoflow(capsys, "run", "--json", FEATURES, "features", "--days", "1", "--seed=7")
    _, default_seed, _ = stratoflow(capsys, "run", "--json", FEATURES, "features", "--days", "1")
    assert json.loads(by_json) == json.loads(by_flags)
    assert json.loads(by_json) != json.loads(default_seed)
    # --inputs may name a .json file, and flags win over it.
    inputs = tmp_path / "inputs.json"
    inputs.write_text('{"days": 1, "seed": 99}', encoding="utf-8")
    _, from_file, _ = stratoflow(
        capsys, "run", "--json", "--inputs", str(inputs), FEATURES, "features", "--seed", "7"
    )
    assert json.loads(from_file) == json.loads(by_json)


def test_wrong_input_type_names_the_input_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    code, out, err = stratoflow(
        capsys, "run", CACHE_TASKS_FILE, "doubled", "--x", "abc", "--marker", str(marker)
    )
    assert code == 2
    assert out == ""
    assert err.strip() == "error: input 'x' expects int, got 'abc'"
    assert count(marker) == 0
    assert not (stratoflow_home / "cache.sqlite").exists()  # rejected before the executor started


def test_wrong_input_type_in_inputs_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    inputs = json.dumps({"x": "abc", "marker": str(marker)})
    code, _, err = stratoflow(capsys, "run", "--inputs", inputs, CACHE_TASKS_FILE, "doubled")
    assert code == 2
    assert err.strip() == "error: input 'x' of workflow 'doubled': expected int, got str 'abc'"
    assert count(marker) == 0


def test_missing_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", ETL, "sales_report")
    assert code == 2
    assert out == ""
    assert err.strip() == "error: workflow 'sales_report' is missing input 'data' (File)"


def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = stratoflow(capsys, "run", ETL, "sales_report", "--data", str(tmp_path / "nope.csv"))
    assert code == 2
    assert err == f"error: input 'data': file '{tmp_path / 'nope.csv'}' does not exist\n"  # issue 14


def test_unknown_input_suggests_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", FEATURES, "features", "--dayz", "3")
    assert code == 2
    assert err.strip() == "error: workflow 'features' has no input 'dayz' (did you mean 'days'?)"


def test_bad_inputs_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", "--inputs", "{days: 3}", FEATURES, "features")
    assert code == 2
    assert err.startswith("error: --inputs is not valid JSON")
    code, _, err = stratoflow(capsys, "run", "--inputs", "[1, 2]", FEATURES, "features")
    assert code == 2
    assert err.strip() == "error: --inputs must be a JSON object of input names to values"


def test_unknown_workflow_and_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = stratoflow(capsys, "run", FEATURES, "featurez")
    assert code == 2
    assert err.strip() == f"error: {FEATURES} has no workflow named 'featurez' (workflows there: features)"
    code, _, err = stratoflow(capsys, "run", str(tmp_path / "absent.py"), "wf")
    assert code == 2
    assert err.strip() == f"error: no such file: {tmp_path / 'absent.py'}"


@pytest.mark.parametrize(
    ("file_name", "suggestion"), [(".hidden.py", "hidden.py"), ("my.flow.py", "my_flow.py")]
)
def test_run_rejects_a_file_whose_name_is_not_a_module_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, file_name: str, suggestion: str
) -> None:
    flow = tmp_path / file_name
    flow.write_text("from stratoflow import workflow\n\n\n@workflow\ndef wf() -> None:\n    pass\n")
    code, _, err = stratoflow(capsys, "run", str(flow), "wf")
    assert code == 2
    stem = file_name.removesuffix(".py")
    assert err.strip() == (
        f"error: cannot load {flow}: {stem!r} is not a module name (task references import the file "
        f"by it, and a dot names a package); rename it, e.g. {suggestion}"
    )


# --- errors ---------------------------------------------------------------------------------------

BAD_FLOW = """\
from stratoflow import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    if y + 3:
        return y
    return inc(x=y)
"""


def test_bad_definition_file_exits_2_with_path_line_col(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flow = tmp_path / "bad_flow.py"
    flow.write_text(BAD_FLOW, encoding="utf-8")
    code, out, err = stratoflow(capsys, "run", str(flow), "wf", "--x", "1")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "2 problems found:"
    pattern = re.compile(r"^  \d\. (?P<path>.+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.*)$")
    found = [pattern.match(line) for line in lines[1:]]
    assert all(found), lines
    assert [(Path(m["path"]).resolve(), int(m["line"])) for m in found if m] == [(flow.resolve(), 12)] * 2
    assert "(arithmetic or comparison)" in lines[1]
    assert "(truth test, e.g. 'if' or 'and')" in lines[2]


def test_single_definition_problem_is_one_editor_linkable_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flow = tmp_path / "typo_flow.py"
    flow.write_text(BAD_FLOW.replace("    if y + 3:\n        return y\n", ""), encoding="utf-8")
    flow.write_text(flow.read_text(encoding="utf-8").replace("inc(x=y)", "inc(xx=y, x=y)"), encoding="utf-8")
    code, _, err = stratoflow(capsys, "graph", str(flow), "wf")
    assert code == 2
    assert re.fullmatch(
        rf"{re.escape(str(flow))}:12:12: error: task 'inc' got unexpected argument 'xx' in workflow 'wf' "
        r"\(did you mean 'x'\?\)\n",
        err,
    ), err


def test_failed_run_exits_1_with_the_error_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    code, out, err = stratoflow(
        capsys, "run", "--json", TASKS_FILE, "failing", "--x", "7", "--marker", str(marker)
    )
    assert code == 1
    assert out == ""
    assert err.startswith("error: task in node 'explode' failed (attempt 1): ValueError: boom 7\n")
    assert "Traceback (most recent call last)" in err
    assert 'raise ValueError(f"boom {x}")' in err  # the user's line, from the kept traceback
    assert count(marker) == 0


# --- graph ----------------------------------------------------------------------------------------


def test_graph_prints_mermaid_with_the_expected_edges(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "graph", FEATURES, "features")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    edges = {line.strip() for line in lines if "-->" in line}
    assert edges == {
        "in_days --> load_events",
        "in_seed --> load_events",
        "load_events --> user_stats",
        "load_events --> session_stats",
        "user_stats --> join_features",
        "session_stats --> join_features",
        "in_run_label --> join_features",
        "join_features --> out_o0",
    }
    assert '  join_features["join_features"]' in lines


def test_graph_shows_map_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = stratoflow(capsys, "graph", TRAINING, "training")
    assert code == 0
    assert '  map_score[["map score"]]' in out.splitlines()
    assert "  split --> map_score" in out.splitlines()
    assert "  map_score --> train" in out.splitlines()


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "usage: stratoflow" in capsys.readouterr().err
