"""``stratoflow recover RUN`` on the command line: a run failed in one process is recovered in another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stratoflow.backends.local import RunHistory
from stratoflow.cli._main import main
from tests.ops.recover_flows import calls

FLOWS = Path(__file__).with_name("recover_flows.py")


def test_recover_in_a_new_process_reuses_what_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, folder = tmp_path / "home", tmp_path / "work"
    folder.mkdir()
    monkeypatch.setenv("STRATOFLOW_HOME", str(home))
    assert main(["run", str(FLOWS), "pipeline", "--folder", str(folder)]) == 1
    assert "not fixed yet" in capsys.readouterr().err
    (failed,) = RunHistory(home / "runs.sqlite").list()
    (folder / "fixed").touch()
    done = subprocess.run(
        [sys.executable, "-m", "stratoflow.cli", "recover", failed.run_id[:10], "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "STRATOFLOW_HOME": str(home)},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"o0": "audited: 10"}
    assert sorted(calls(folder)) == ["audit", "extract", "fragile", "fragile"]


def test_recover_of_an_unknown_run_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    assert main(["recover", "nope"]) == 2
    assert "error: no local run 'nope' in the run history" in capsys.readouterr().err
