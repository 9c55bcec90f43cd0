"""`stratoflow run --sandbox` looks like a local run: one test per message, its text and exit code.

Each `cli.main` call starts a new emulated stack (as a new CLI process does), so a cache hit
in a later call comes from what the sandbox kept under ``$STRATOFLOW_HOME/sandbox``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stratoflow import cli
from tests.emulated import sandbox_cli_flows as flows
from tests.emulated._cli import NOISE, cli_process

FLOWS = flows.__name__  # the module form: the CLI runs the very module the test counts calls in
FLOWS_FILE = str(Path(flows.__file__))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_sandbox_run_prints_its_outputs_as_a_local_run_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "run", "--sandbox", FLOWS, "doubled", "--x", "4")
    assert (code, out) == (0, "workflow 'doubled' succeeded\n  o0 = 8\n")
    assert not any(noise in err for noise in NOISE), err


def test_the_sandbox_cache_outlives_the_run_and_clears(capsys: pytest.CaptureFixture[str]) -> None:
    before = flows.CALLS["double"]
    assert _run(capsys, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "5")[:2] == (0, '{"o0": 10}\n')
    assert _run(capsys, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "5")[:2] == (0, '{"o0": 10}\n')
    assert flows.CALLS["double"] == before + 1  # the second CLI run was a cache hit
    code, out, _ = _run(capsys, "cache", "ls", "--sandbox")
    assert code == 0 and "tests.emulated.sandbox_cli_flows:double  version=1" in out
    assert _run(capsys, "cache", "clear", "--sandbox")[:2] == (0, "removed 1 sandbox cache entries\n")
    assert _run(capsys, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "5")[0] == 0
    assert flows.CALLS["double"] == before + 2  # cleared: computed again


def test_overwrite_cache_runs_again_and_the_next_run_hits_its_entry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = flows.CALLS["double"]
    doubled = ("--json", FLOWS, "doubled", "--x", "11")
    assert _run(capsys, "run", "--sandbox", *doubled)[:2] == (0, '{"o0": 22}\n')
    assert _run(capsys, "run", "--sandbox", "--overwrite-cache", *doubled)[:2] == (0, '{"o0": 22}\n')
    assert flows.CALLS["double"] == before + 2  # computed again, though cached
    assert _run(capsys, "run", "--sandbox", *doubled)[:2] == (0, '{"o0": 22}\n')
    assert flows.CALLS["double"] == before + 2  # the kept (replaced) entry was served


def test_no_cache_keeps_nothing_of_the_sandbox_run(
    capsys: pytest.CaptureFixture[str], stratoflow_home: Path
) -> None:
    assert _run(capsys, "run", "--sandbox", "--no-cache", FLOWS, "doubled", "--x", "6")[0] == 0
    assert _run(capsys, "cache", "clear", "--sandbox")[:2] == (0, "removed 0 sandbox cache entries\n")


def test_a_failed_sandbox_run_prints_the_user_error_and_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "run", "--sandbox", FLOWS, "broken", "--x", "3")
    assert (code, out) == (1, "")
    first, *rest = err.splitlines()
    assert first.startswith("error: execution ")
    assert first.endswith("FAILED: task in node 'lookup' failed (attempt 1): KeyError: 'no column 6'")
    assert rest[0] == "Traceback (most recent call last):"
    assert f'File "{FLOWS_FILE}", line' in err and rest[-1] == "KeyError: 'no column 6'"


def test_a_failed_sandbox_container_prints_the_user_error_not_its_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, "run", "--sandbox", FLOWS, "broken_container", "--x", "3")
    assert code == 1
    assert (
        "task in node 'container_lookup' failed (attempt 1): KeyError: 'no column 3'" in err.splitlines()[0]
    )
    assert err.splitlines()[-1] == "KeyError: 'no column 3'"


def test_sandbox_runs_are_listed_and_shown_marked_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "run", "--sandbox", FLOWS, "doubled", "--x", "7")[0] == 0
    code, out, _ = _run(capsys, "executions", "ls")
    (line,) = out.splitlines()
    assert code == 0 and " doubled " in line and "SUCCEEDED" in line and line.endswith("  (sandbox)")
    code, out, _ = _run(capsys, "executions", "show", line.split()[0])
    assert code == 0
    assert "ran in    sandbox (emulated AWS)\n" in out and 'outputs   {"o0": 14}\n' in out


def test_a_failed_sandbox_process_prints_no_emulator_or_powertools_output(
    subprocess_env: dict[str, str],
) -> None:
    proc = cli_process(subprocess_env, "run", "--sandbox", FLOWS, "broken_container", "--x", "3")
    assert proc.returncode == 1 and proc.stdout == ""
    assert not any(noise in proc.stderr for noise in NOISE), proc.stderr
    assert proc.stderr.startswith("error: execution ") and proc.stderr.endswith("KeyError: 'no column 3'\n")


def test_verbose_shows_the_emulator_and_runner_logs(subprocess_env: dict[str, str]) -> None:
    proc = cli_process(subprocess_env, "run", "--sandbox", "--verbose", FLOWS, "broken", "--x", "3")
    assert proc.returncode == 1
    assert "Exception=FailureEventException" in proc.stderr  # moto's interpreter
    assert '"message":"task failed"' in proc.stderr  # the runner Lambda's powertools logger


_NO_MOTO = """
import sys
class _NoMoto:  # as if the sandbox extra were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "moto":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoMoto())
"""


@pytest.mark.parametrize("argv", [("run", "--sandbox", FLOWS, "doubled", "--x", "1"), ("sandbox", "start")])
def test_without_the_emulator_installed_it_says_what_to_install_in_one_line(
    subprocess_env: dict[str, str], tmp_path: Path, argv: tuple[str, ...]
) -> None:
    # A sitecustomize hides moto in this process and in the server `sandbox start` spawns.
    (tmp_path / "sitecustomize.py").write_text(_NO_MOTO, encoding="utf-8")
    env = {**subprocess_env, "PYTHONPATH": os.pathsep.join((str(tmp_path), subprocess_env["PYTHONPATH"]))}
    proc = cli_process(env, *argv)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "error: --sandbox needs the emulated AWS, which is not installed (No module named 'moto'): "
        "pip install 'stratoflow[sandbox]'\n"
    )
