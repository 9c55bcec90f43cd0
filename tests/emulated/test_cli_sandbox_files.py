"""`stratoflow run --sandbox`: File outputs are copied out of the emulated bucket under their names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratoflow import cli
from tests._examples import SALES_CSV
from tests.conftest import EXAMPLES


def test_sandbox_file_output_keeps_its_name_under_the_home(
    capsys: pytest.CaptureFixture[str], stratoflow_home: Path
) -> None:
    capsys.readouterr()
    argv = ["run", "--sandbox", "--json", str(EXAMPLES / "etl.py"), "sales_report", "--data", str(SALES_CSV)]
    assert cli.main(argv) == 0
    outputs = json.loads(capsys.readouterr().out)
    report = Path(outputs["o1"])
    assert report.name == "report.json"
    assert report.parent.parent == stratoflow_home / "outputs"  # outputs/<execution name>/report.json
    assert (
        json.loads(report.read_text(encoding="utf-8")) == outputs["o0"]
    )  # readable after the sandbox closed
