"""`stratoflow run` with datetime, date, timedelta, Decimal and Enum inputs and outputs."""

from __future__ import annotations

import json

import pytest

from stratoflow.cli import main
from tests.emulated import lang_flows

ARGS = ["--when", "2024-01-31T12:00:00+00:00", "--day", "2024-02-28", "--by", "3600", "--price", "2.50"]


@pytest.mark.parametrize("color", ["red", "RED"])  # an Enum input by value or by member name
def test_run_parses_and_prints_the_new_types(capsys: pytest.CaptureFixture[str], color: str) -> None:
    assert main(["run", "--json", lang_flows.__file__, "typed", *ARGS, "--color", color]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "o0": "2024-01-31T13:00:00+00:00",
        "o1": "2024-03-01",
        "o2": 7200.0,
        "o3": "5.00",
        "o4": "blue",
    }


def test_a_bad_date_is_an_input_error_naming_the_input(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*ARGS, "--color", "red"]
    args[args.index("2024-02-28")] = "yesterday"
    assert main(["run", lang_flows.__file__, "typed", *args]) == 2
    assert (
        "error: input 'day' of workflow 'typed': expected date, got str 'yesterday'"
        in capsys.readouterr().err
    )
