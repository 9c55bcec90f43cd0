"""`stratoflow run` (issue 14): options before the file, exact; inputs after WORKFLOW; one-line input errors.

One test per message, each asserting the text and the exit code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stratoflow import cli
from tests.conftest import REPO

FLOWS = str(REPO / "tests" / "local" / "_cli_flows.py")
EXE = str(Path(sys.executable).with_name("stratoflow"))
USAGE_TAIL = "(stratoflow run [OPTIONS] FILE_OR_MODULE WORKFLOW [--INPUT VALUE ...])"


def stratoflow(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int | str | None, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    return info.value.code, capsys.readouterr().err


# --- options vs inputs -----------------------------------------------------------------------------


def test_inputs_named_like_run_options_are_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse prefix matching used to take these for --no-cache, --workers, --stack, --json.
    argv = ("--n", "3", "--w", "8", "--stack", "Q", "--s", "hi", "--json", "1")
    code, out, err = stratoflow(capsys, "run", "--json", FLOWS, "named_like_options", *argv)
    assert (code, err) == (0, "")
    assert json.loads(out) == {"o0": "n=3 w=8 stack=Q s=hi json=1"}


def test_abbreviated_option_before_the_file_is_not_matched(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = usage_error(capsys, "run", "--work", "2", FLOWS, "talks", "--x", "1")
    assert code == 2
    assert err.splitlines()[-1] == "stratoflow: error: unrecognized arguments: --work"


def test_run_option_after_the_workflow_says_where_it_goes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", FLOWS, "talks", "--x", "1", "--json")
    assert (code, out) == (2, "")
    assert err == (
        "error: workflow 'talks' has no input 'json'; --json is an option of stratoflow run "
        "and goes before FILE_OR_MODULE\n"
    )


def test_option_between_file_and_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", FLOWS, "--json", "talks", "--x", "1")
    assert code == 2
    assert err == f"error: --json after FILE_OR_MODULE: stratoflow run's options go before it {USAGE_TAIL}\n"


def test_missing_workflow_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", FLOWS)
    assert code == 2
    assert err == "error: run needs a WORKFLOW after FILE_OR_MODULE (stratoflow run FILE WORKFLOW ...)\n"


def test_stray_positional_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", FLOWS, "talks", "1")
    assert code == 2
    assert err == "error: unexpected argument '1'; pass inputs as --name value\n"


# --- --inputs --------------------------------------------------------------------------------------


def test_inputs_at_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inputs = tmp_path / "in.json"
    inputs.write_text('{"text": "from a file"}', encoding="utf-8")
    code, out, err = stratoflow(capsys, "run", "--json", "--inputs", f"@{inputs}", FLOWS, "echoed")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"o0": "from a file"}


def test_inputs_at_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = stratoflow(capsys, "run", "--inputs", f"@{missing}", FLOWS, "echoed")
    assert (code, out) == (2, "")
    assert err == f"error: --inputs: file '{missing}' does not exist\n"


def test_inputs_missing_json_path_without_at(capsys: pytest.CaptureFixture[str]) -> None:
    # Used to say "not valid JSON" about the file name.
    code, _, err = stratoflow(capsys, "run", "--inputs", "nope.json", FLOWS, "echoed")
    assert code == 2
    assert err == "error: --inputs: file 'nope.json' does not exist\n"


def test_inputs_file_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inputs = tmp_path / "latin1.json"
    inputs.write_bytes('{"text": "café"}'.encode("latin-1"))
    code, out, err = stratoflow(capsys, "run", "--inputs", f"@{inputs}", FLOWS, "echoed")
    assert (code, out) == (2, "")
    assert err == f"error: --inputs: file '{inputs}' is not UTF-8 text (byte 0xe9 at offset 13)\n"


def test_lone_surrogate_in_a_flag_value(capsys: pytest.CaptureFixture[str]) -> None:
    # What Python makes of an undecodable argv byte (b"\xff" -> "\udcff").
    code, _, err = stratoflow(capsys, "run", FLOWS, "echoed", "--text", "a\udcff")
    assert code == 2
    assert err == "error: input 'text' is not valid UTF-8 text ('\\udcff' at position 1)\n"


def test_lone_surrogate_in_inputs_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = stratoflow(capsys, "run", "--inputs", '{"text": "\\ud800"}', FLOWS, "echoed")
    assert code == 2
    assert err == "error: input 'text' is not valid UTF-8 text ('\\ud800' at position 0)\n"


def test_undecodable_argv_in_a_real_process_is_one_line(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [EXE.encode(), b"run", FLOWS.encode(), b"echoed", b"--text", b"\xff"],
        capture_output=True,
        timeout=120,
        check=False,
        env=subprocess_env,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr == b"error: input 'text' is not valid UTF-8 text ('\\udcff' at position 0)\n"


def test_missing_file_input_via_inputs_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "data" / "nope.csv"
    inputs = json.dumps({"data": str(missing), "rows": 1})
    code, _, err = stratoflow(capsys, "run", "--inputs", inputs, FLOWS, "report")
    assert code == 2
    assert err == f"error: input 'data': file '{missing}' does not exist\n"


# --- --json: stdout holds the outputs only ---------------------------------------------------------


def test_json_stdout_holds_only_the_outputs(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [EXE, "run", "--json", FLOWS, "talks", "--x", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=subprocess_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{"o0": 2}\n'
    assert "hello from the task\n" in proc.stderr
    assert "hello from a subprocess\n" in proc.stderr


def test_json_restores_stdout_after_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    before = sys.stdout
    code, out, err = stratoflow(capsys, "run", "--json", FLOWS, "talks", "--x", "1")
    assert code == 0
    assert sys.stdout is before
    assert out == '{"o0": 2}\n'
    assert "hello from the task" in err
    print("after")
    assert capsys.readouterr().out == "after\n"


def test_without_json_task_output_stays_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = stratoflow(capsys, "run", FLOWS, "talks", "--x", "1")
    assert code == 0
    assert out.splitlines()[0] == "hello from the task"
    assert out.splitlines()[-2:] == ["workflow 'talks' succeeded", "  o0 = 2"]


# --- --help after the workflow: its inputs ---------------------------------------------------------


def test_help_after_the_workflow_lists_its_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = stratoflow(capsys, "run", FLOWS, "named_like_options", "--help")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"usage: stratoflow run [OPTIONS] {FLOWS} named_like_options --n int [--w int] [--stack str] "
        "[--s str] [--json int]",
        "",
        "inputs of workflow 'named_like_options':",
        "  --n int  (required)",
        "  --w int  (default 1)",
        '  --stack str  (default "-")',
        '  --s str  (default "-")',
        "  --json int  (default 0)",
    ]
