"""``executions show`` of a ``run --sandbox`` run: its node records, copied from the emulated bucket
into the run history, print the same table as a local run's."""

from __future__ import annotations

import json
import time

import pytest

from stratoflow import cli
from tests.local import _record_flows as flows

pytestmark = pytest.mark.emulated

FLOWS = flows.__name__


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_show_of_a_sandbox_run_prints_its_node_table(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.time()
    assert _run(capsys, "run", "--sandbox", FLOWS, "recorded", "--n", "4")[0] == 0
    code, out, _ = _run(capsys, "executions", "ls")
    (line,) = out.splitlines()
    code, out, _ = _run(capsys, "executions", "show", line.split()[0], "--items")
    assert code == 0 and "ran in    sandbox (emulated AWS)\n" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["flaky"][1:4] == ["succeeded", "2", "lambda"]
    assert rows["map_shout[2]"][1:4] == ["failed", "1", "lambda"]
    assert rows["negate"][1] == "skipped"
    code, out, _ = _run(capsys, "executions", "show", line.split()[0], "--json")
    nodes = json.loads(out)["nodes"]
    assert all(n["logs"] is None for n in nodes)  # the emulated CloudWatch is gone with the sandbox
    assert all(n["started"] >= started for n in nodes if n["started"] is not None)
