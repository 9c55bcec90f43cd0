"""`stratoflow executions ls | show` over the local run history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stratoflow.backends.local import RunHistory, RunOptions, run_recorded
from stratoflow.cache import default_home
from stratoflow.cli import main
from stratoflow.errors import InputError, TaskFailedError
from stratoflow.lower import lower
from tests.conftest import EXAMPLES
from tests.local import serialize_flows
from tests.local._tasks import failing_flow_for_history


def _history() -> RunHistory:
    return RunHistory(default_home() / "runs.sqlite")


def test_a_cli_run_is_listed_and_shown_with_its_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--json", str(EXAMPLES / "features.py"), "features", "--days", "1"]) == 0
    capsys.readouterr()
    assert main(["executions", "ls"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 1
    assert "features" in listing[0]
    assert "SUCCEEDED" in listing[0]
    run_prefix = listing[0].split()[0]
    assert main(["executions", "show", run_prefix]) == 0
    shown = capsys.readouterr().out
    assert "status    SUCCEEDED" in shown
    assert '"users": ' in shown


def test_a_failed_run_is_recorded_with_its_error(fast_options: RunOptions) -> None:
    with pytest.raises(TaskFailedError):
        run_recorded(lower(failing_flow_for_history), {"x": 3}, fast_options)
    (record,) = list(_history().list())
    assert record.status == "FAILED"
    assert record.error is not None
    assert "history says no to 3" in record.error
    assert record.finished is not None


def test_rejected_inputs_are_not_runs(fast_options: RunOptions) -> None:
    with pytest.raises(InputError):
        run_recorded(lower(serialize_flows.four_at_once), {"x": "six"}, fast_options)
    assert list(_history().list()) == []


def test_a_plain_workflow_call_is_recorded_too() -> None:
    serialize_flows.CALLS.clear()
    assert serialize_flows.four_at_once(x=2) == 16
    (record,) = list(_history().list())
    assert (record.workflow, record.status, record.outputs) == ("four_at_once", "SUCCEEDED", {"o0": 16})


def test_show_of_an_unknown_run_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["executions", "show", "nope"]) == 2
    assert "no single local run matches 'nope'" in capsys.readouterr().err


def test_a_sigkilled_run_is_shown_abandoned_not_running(
    subprocess_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys
    import textwrap

    # A real local run whose process is SIGKILLed in the middle of its first task.
    child = textwrap.dedent(
        """
        import os, signal
        from stratoflow import task, workflow
        from stratoflow.backends.local import RunOptions, run_recorded
        from stratoflow.lower import lower

        @task
        def die(x: int) -> int:
            os.kill(os.getpid(), signal.SIGKILL)
            return x

        @workflow
        def killed(x: int) -> int:
            return die(x=x)

        run_recorded(lower(killed), {"x": 1}, RunOptions(progress=False))
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], env=subprocess_env, timeout=120, check=False)
    assert proc.returncode == -9
    (record,) = list(_history().list())
    assert record.workflow == "killed"
    assert record.status == "ABANDONED"
    assert main(["executions", "ls"]) == 0
    listing = capsys.readouterr().out
    assert "ABANDONED" in listing and "RUNNING" not in listing


def test_a_history_written_before_the_newer_columns_gains_them(tmp_path: Path) -> None:
    # New histories are created with every column; an older file is migrated when opened.
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, ref TEXT NOT NULL, "
            "status TEXT NOT NULL, started REAL NOT NULL, finished REAL, outputs TEXT, error TEXT)"
        )
        conn.execute("INSERT INTO runs VALUES ('old1', 'wf', 'm:wf', 'SUCCEEDED', 1.0, 2.0, '{}', NULL)")
    conn.close()
    history = RunHistory(path)
    history.start("new1", lower(failing_flow_for_history), backend="sandbox")
    history.finish("new1", "FAILED", error="boom", skipped=("n1",))
    records = {record.run_id: record for record in history.list()}
    assert records["old1"].status == "SUCCEEDED"
    assert records["old1"].backend == "local"
    assert (records["new1"].status, records["new1"].backend, records["new1"].error) == (
        "FAILED",
        "sandbox",
        "boom",
    )
    assert records["new1"].skipped == ("n1",)
