"""One test per DefinitionError that StructuredDataset columns, decks and ShellTask add: text and line.

Each case is a small module written to a real file; line 1 of the source is line 1 of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.define._cases import definition_error

# Lines 1-8; a case body starts at line 9.
SHELL = """\
from typing import Annotated

from stratoflow import StructuredDataset, kwtypes, task, workflow
from stratoflow.extras.tasks.shell import OutputLocation, ShellTask
from stratoflow.types.directory import FlyteDirectory
from stratoflow.types.file import FlyteFile


"""


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    problems: tuple[tuple[int, str], ...]  # (line, message)


CASES = [
    Case(
        "reader-column-the-writer-does-not-name",
        SHELL
        + """\
@task
def writer() -> Annotated[StructuredDataset, kwtypes(a=int, b=str)]:
    ...


@task
def reader(sd: Annotated[StructuredDataset, kwtypes(c=int)]) -> int:
    return 0


@workflow
def wf() -> int:
    return reader(sd=writer())
""",
        (
            (
                21,
                "input 'sd' of task 'reader' expects StructuredDataset[c: int], but output 'o0' of node 'writer' "
                "is StructuredDataset[a: int, b: str]",
            ),
        ),
    ),
    Case(
        "unsupported-column-type",
        SHELL
        + """\
@task
def reader(sd: Annotated[StructuredDataset, kwtypes(a=complex)]) -> int:
    return 0
""",
        (
            (
                10,
                "task 'reader' input 'sd': column 'a': type 'complex' is not supported (supported: int, float, "
                "str, bool, None, bytes, list[T], dict[K, T], Optional[T], dataclasses, pydantic models, File, "
                "Directory, datetime, date, timedelta, Decimal, Enum, pandas.DataFrame, pyarrow.Table)",
            ),
        ),
    ),
    Case(
        "columns-given-twice",
        SHELL
        + """\
@task
def reader(sd: Annotated[StructuredDataset, kwtypes(a=int), kwtypes(b=int)]) -> int:
    return 0
""",
        ((10, "task 'reader' input 'sd': a table's columns are given twice in one Annotated[...]"),),
    ),
    Case(
        "enable-and-disable-deck",
        SHELL
        + """\
@task(enable_deck=True, disable_deck=False)
def report() -> int:
    return 0
""",
        ((9, "task 'report': only one of [disable_deck, enable_deck] can be set"),),
    ),
    Case(
        "shell-script-and-script-file",
        SHELL + 't = ShellTask(name="t", script="echo", script_file="run.sh")\n',
        ((9, "shell task 't': give script or script_file, not both"),),
    ),
    Case(
        "shell-no-script",
        SHELL + 't = ShellTask(name="t")\n',
        ((9, "shell task 't' needs a script or a script_file"),),
    ),
    Case(
        "shell-script-file-missing",
        SHELL + 't = ShellTask(name="t", script_file="/nonexistent/run.sh")\n',
        ((9, "shell task 't': script_file /nonexistent/run.sh cannot be read (No such file or directory)"),),
    ),
    Case(
        "shell-task-config",
        SHELL + 't = ShellTask(name="t", script="echo", task_config=object())\n',
        ((9, "shell task 't': task_config (a Pod) is not supported; use requests= and container_image="),),
    ),
    Case(
        "shell-unsupported-input-type",
        SHELL + 't = ShellTask(name="t", script="echo {inputs.x}", inputs=kwtypes(x=complex))\n',
        (
            (
                9,
                "shell task 't' input 'x': type 'complex' is not supported (supported: int, float, str, bool, "
                "None, bytes, list[T], dict[K, T], Optional[T], dataclasses, pydantic models, File, Directory, "
                "datetime, date, timedelta, Decimal, Enum, pandas.DataFrame, pyarrow.Table)",
            ),
        ),
    ),
    Case(
        "shell-output-not-an-output-location",
        SHELL + 't = ShellTask(name="t", script="echo", output_locs=["out.txt"])\n',
        ((9, "shell task 't': every output_locs item must be an OutputLocation, not 'out.txt'"),),
    ),
    Case(
        "shell-output-not-a-file",
        SHELL + 't = ShellTask(name="t", script="echo", output_locs=[OutputLocation(var="n", var_type=int, '
        'location="n")])\n',
        ((9, "shell task 't' output 'n' is a int; outputs are FlyteFile or FlyteDirectory"),),
    ),
    Case(
        "shell-script-names-a-missing-input",
        SHELL
        + """\
t = ShellTask(
    name="t",
    script="cat {inputs.y}",
    inputs=kwtypes(x=FlyteFile),
)
""",
        ((9, "shell task 't' script uses {inputs.y}, but there is no input 'y'"),),
    ),
    Case(
        "shell-script-names-a-missing-output",
        SHELL + 't = ShellTask(name="t", script="echo > {outputs.o}")\n',
        ((9, "shell task 't' script uses {outputs.o}, but no output 'o'"),),
    ),
    Case(
        "shell-location-names-an-output",
        SHELL
        + 't = ShellTask(name="t", script="echo", output_locs=[OutputLocation(var="d", var_type=FlyteDirectory, '
        'location="{outputs.d}")])\n',
        ((9, "shell task 't' output 'd' location uses {outputs.d}, but a location may not use outputs"),),
    ),
    Case(
        "shell-template-unknown-root",
        SHELL + 't = ShellTask(name="t", script="echo {HOME}")\n',
        ((9, "shell task 't' script uses {HOME}: only inputs.<name>, outputs.<name> and ctx.<attr>"),),
    ),
    Case(
        "shell-template-unbalanced-brace",
        SHELL + 't = ShellTask(name="t", script="echo ${x")\n',
        (
            (
                9,
                "shell task 't' script is not a valid template (expected '}' before end of string; write {{ "
                "and }} for literal braces)",
            ),
        ),
    ),
    Case(
        "shell-unknown-option",
        SHELL + 't = ShellTask(name="t", script="echo", retry=2)\n',
        (
            (
                9,
                "shell task 't': unknown option(s) retry; options are: accelerator, cache, cache_ignore_input_vars, "
                "cache_serialize, cache_version, compute, container_image, disable_deck, enable_deck, interruptible, "
                "limits, name, requests, retries, secret_requests, timeout",
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tables_decks_and_shell_definition_error_message_and_line(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, case.source)
    got = [(p.line, p.message) for p in error.problems]
    assert got == list(case.problems)
    for problem in error.problems:
        assert Path(problem.path).resolve() == path.resolve()
