"""Local runs (issue 14): File outputs keep their names, nothing is left in the temp directory,
and the module form of `stratoflow run` finds a module in the current folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stratoflow import File, cli
from tests.conftest import REPO
from tests.local import _cli_flows as flows

FLOWS = str(REPO / "tests" / "local" / "_cli_flows.py")
EXE = str(Path(sys.executable).with_name("stratoflow"))


@pytest.fixture
def report_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.setenv("REPORT_DIR", str(folder))
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    return path


def test_plain_python_call_returns_files_under_their_names(
    report_dir: Path, data: Path, stratoflow_home: Path
) -> None:
    made, lines = flows.report(data=File(data), rows=4)
    assert lines == 3
    path = Path(made.path)
    assert path.name == made.name == "report.txt"
    assert path.parent.parent == stratoflow_home / "outputs"  # outputs/<run>/report.txt
    assert made.uri == str(path)  # no blob digest in what the user sees
    assert path.read_text(encoding="utf-8") == "row\n" * 4
    (report_dir / "report.txt").unlink()  # the output is a copy, not the task's file
    assert path.is_file()


def test_cli_prints_output_files_under_their_names(
    capsys: pytest.CaptureFixture[str], report_dir: Path, data: Path, stratoflow_home: Path
) -> None:
    capsys.readouterr()
    assert cli.main(["run", "--json", FLOWS, "report", "--data", str(data), "--rows", "2"]) == 0
    outputs = json.loads(capsys.readouterr().out)
    path = Path(outputs["o0"])
    assert path.name == "report.txt"
    run_dir = path.parent
    assert run_dir.parent == stratoflow_home / "outputs"
    assert cli.main(["executions", "show", run_dir.name]) == 0  # the folder is named after the run
    assert f"run       {run_dir.name}" in capsys.readouterr().out


def test_outputs_with_the_same_name_do_not_overwrite_each_other(
    report_dir: Path, stratoflow_home: Path
) -> None:
    first, second = flows.same_names(rows=1)
    assert (Path(first.path).name, Path(second.path).name) == ("report.txt", "report.txt")
    run_dir = Path(first.path).parent
    assert Path(second.path) == run_dir / "2" / "report.txt"
    assert Path(first.path).read_text(encoding="utf-8") == "part 0\n"
    assert Path(second.path).read_text(encoding="utf-8") == "part 1\n"


def test_a_task_reads_its_input_file_under_its_name(data: Path, stratoflow_home: Path) -> None:
    seen = Path(flows.input_path(data=File(data)))
    assert seen.name == "data.csv"
    assert stratoflow_home / "files" in seen.parents  # a copy under the home, not in /tmp
    assert seen.read_text(encoding="utf-8") == data.read_text(encoding="utf-8")


def test_runs_leave_nothing_in_the_temp_directory(
    subprocess_env: dict[str, str], tmp_path: Path, data: Path, report_dir: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**subprocess_env, "TMPDIR": str(temp), "REPORT_DIR": str(report_dir)}
    cli_run = [EXE, "run", "--json", FLOWS, "report", "--data", str(data), "--rows", "2"]
    plain = [
        sys.executable,
        "-c",
        "from stratoflow import File; from tests.local import _cli_flows as f; "
        f"made, n = f.report(data=File({str(data)!r}), rows=2); print(open(made).read() and n)",
    ]
    for argv in (cli_run, plain):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
        assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "3\n"
    assert sorted(temp.iterdir()) == []


MODULE = """\
from stratoflow import task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def wf(x: int) -> int:
    return inc(x=x)
"""


def test_module_form_finds_a_module_in_the_current_folder(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "mymod_cwd.py").write_text(MODULE, encoding="utf-8")
    proc = subprocess.run(
        [EXE, "run", "--json", "mymod_cwd", "wf", "--x", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=subprocess_env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"o0": 3}\n'
