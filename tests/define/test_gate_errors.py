"""One test per DefinitionError of the gates (``sleep``, ``wait_for_input``, ``approve``): message and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.define._cases import definition_error

# The workflow body's first line is line 12 of every case.
HEAD = """\
from datetime import timedelta

from stratoflow import approve, sleep, task, wait_for_input, workflow


@task
def inc(x: int) -> int:
    return x + 1

@workflow
def wf(x: int) -> int:
"""

CASES = [
    ("sleep(5)\n    return inc(x=x)", "sleep() takes a timedelta of at least 1 second, got 5"),
    (
        "return inc(x=wait_for_input('a b', timeout=timedelta(hours=1), expected_type=int))",
        "wait_for_input() name 'a b' must be 1-80 letters, digits, '_' or '-' (it is a key of the run)",
    ),
    (
        "return inc(x=wait_for_input('n', timeout=timedelta(0), expected_type=int))",
        "wait_for_input('n') timeout takes a timedelta of at least 1 second, got datetime.timedelta(0)",
    ),
    (
        "return inc(x=wait_for_input('n', timeout=timedelta(hours=1), expected_type=set))",
        "wait_for_input('n') expected_type: type 'set' is not supported (supported: int, float, str, bool, "
        "None, bytes, list[T], dict[K, T], Optional[T], dataclasses, pydantic models, File, Directory, "
        "datetime, date, timedelta, Decimal, Enum, pandas.DataFrame, pyarrow.Table)",
    ),
    (
        "return approve(3, 'ok', timeout=timedelta(hours=1))",
        "approve('ok') takes a task's output (a promise), got int",
    ),
]


@pytest.mark.parametrize(("body", "message"), CASES, ids=["sleep", "name", "timeout", "type", "approve"])
def test_a_bad_gate_is_reported_at_its_line(tmp_path: Path, body: str, message: str) -> None:
    path, error = definition_error(tmp_path, HEAD + f"    {body}\n")
    first = error.problems[0]
    assert (first.message, first.line) == (message, 12)
    assert first.path.endswith(path.name)


def test_a_signal_name_used_twice_is_reported_at_the_second(tmp_path: Path) -> None:
    body = (
        "    a = wait_for_input('n', timeout=timedelta(hours=1), expected_type=int)\n"
        "    b = wait_for_input('n', timeout=timedelta(hours=1), expected_type=int)\n"
        "    return inc(x=a)\n"
    )
    _, error = definition_error(tmp_path, HEAD + body)
    [problem] = error.problems
    assert (problem.message, problem.line) == ("wait_for_input() name 'n' is used twice in workflow 'wf'", 13)
