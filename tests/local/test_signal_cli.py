"""``stratoflow signal`` / ``approve`` from another process complete a local run waiting at a gate."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stratoflow.cli._main import main

GATES = "tests/emulated/gate_flows.py"


def _stratoflow() -> str:
    return str(Path(sys.executable).with_name("stratoflow"))


def _waiting_run(home: Path, name: str, timeout: float = 60) -> str:
    """The id of the run whose gate waits for ``name`` (it announced itself under the home)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(home.glob(f"runs/*/*/gates/{name}.json"))
        if found:
            return found[0].parent.parent.name
        time.sleep(0.1)
    raise AssertionError(f"no run waited for {name!r}")


def test_a_signal_from_another_process_completes_a_waiting_run(
    subprocess_env: dict[str, str], stratoflow_home: Path
) -> None:
    run = subprocess.Popen(
        [_stratoflow(), "run", "--json", GATES, "asks", "--n", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
    )
    try:
        run_id = _waiting_run(stratoflow_home, "factor")
        signal = subprocess.run(
            [_stratoflow(), "signal", run_id[:12], "factor", "3"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=subprocess_env,
        )
        assert signal.returncode == 0, signal.stderr
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, err
    assert json.loads(out) == {"o0": 12}


def test_a_rejection_from_another_process_fails_the_run(
    subprocess_env: dict[str, str], stratoflow_home: Path
) -> None:
    run = subprocess.Popen(
        [_stratoflow(), "run", GATES, "gated", "--n", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
    )
    try:
        run_id = _waiting_run(stratoflow_home, "deploy")
        assert main(["approve", run_id, "deploy", "--reject"]) == 0
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 1
    assert "error: approval 'deploy' was rejected" in err


def test_a_signal_for_a_run_that_does_not_wait_is_an_input_error(
    stratoflow_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["signal", "nope", "factor", "3"]) == 2
    assert capsys.readouterr().err == "error: run nope has no gate waiting for signal 'factor'\n"
