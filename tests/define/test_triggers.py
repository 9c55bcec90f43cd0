"""``@workflow(triggers=[S3Trigger(...)])``: the IR it lowers to, and one test per DefinitionError
(exact text, and the decorator's line, since the trigger is declared there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import File, S3Trigger, ir, task, workflow
from stratoflow.lower import lower
from tests.define._cases import definition_error, import_path, write_module
from tests.define.test_errors import Case

# Lines 1-8; a case's decorator is on line 9.
HEAD = """\
from stratoflow import File, S3Trigger, task, workflow


@task
def size(data: File) -> int:
    return 0

"""

CASES = [
    Case(
        "trigger-input-missing",
        HEAD
        + """
@workflow(triggers=[S3Trigger(prefix="incoming/", input="dta")])
def wf(data: File) -> int:
    return size(data=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' names input 'dta', which the workflow does not have",
                "did you mean 'data'?",
            ),
        ),
    ),
    Case(
        "trigger-input-not-a-file",
        HEAD
        + """
@workflow(triggers=[S3Trigger(suffix=".csv", input="n")])
def wf(data: File, n: int = 1) -> int:
    return size(data=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' names input 'n', which is int; "
                "a trigger fills a File input with the new object",
                None,
            ),
            (
                9,
                "S3 trigger of workflow 'wf' fills only input 'n', but input 'data' has no default",
                "give 'data' a default, or start this workflow with Client.run",
            ),
        ),
    ),
    Case(
        "trigger-other-input-without-default",
        HEAD
        + """
@workflow(
    triggers=[S3Trigger(prefix="incoming/", input="data")],
)
def wf(data: File, parts: int) -> int:
    return size(data=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' fills only input 'data', but input 'parts' has no default",
                "give 'parts' a default, or start this workflow with Client.run",
            ),
        ),
    ),
    Case(
        "trigger-on-reserved-prefix",
        HEAD
        + """
@workflow(triggers=[S3Trigger(prefix="runs/in/", input="data")])
def wf(data: File) -> int:
    return size(data=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' watches prefix 'runs/in/', where stratoflow writes its own "
                "objects (runs/, blobs/, specs/, dynamic-specs/)",
                "use another prefix, e.g. 'incoming/'",
            ),
        ),
    ),
    Case(
        "trigger-unsafe-characters",
        HEAD
        + """
@workflow(triggers=[S3Trigger(prefix="in coming/", suffix="*.csv", input="data")])
def wf(data: File) -> int:
    return size(data=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' has prefix 'in coming/'; trigger prefixes and suffixes "
                "may use only letters, digits and / . _ -",
                "S3 URL-encodes other characters in some events, so they cannot be matched reliably",
            ),
            (
                9,
                "S3 trigger of workflow 'wf' has suffix '*.csv'; trigger prefixes and suffixes "
                "may use only letters, digits and / . _ -",
                "S3 URL-encodes other characters in some events, so they cannot be matched reliably",
            ),
        ),
    ),
    Case(
        "trigger-problems-reported-with-body-problems",
        HEAD
        + """
@workflow(triggers=[S3Trigger(input="missing")])
def wf(data: File) -> int:
    return size(dta=data)
""",
        (
            (
                9,
                "S3 trigger of workflow 'wf' names input 'missing', which the workflow does not have",
                "its inputs are: data",
            ),
            (11, "task 'size' got unexpected argument 'dta' in workflow 'wf'", "did you mean 'data'?"),
            (11, "task 'size' is missing required input 'data' (File) in workflow 'wf'", None),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_trigger_definition_error_message_and_line(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, case.source)
    assert [(p.line, p.message, p.hint) for p in error.problems] == list(case.problems)
    for problem in error.problems:
        assert Path(problem.path).resolve() == path.resolve()


def test_trigger_lowers_into_the_spec(tmp_path: Path) -> None:
    module = import_path(
        write_module(
            tmp_path,
            HEAD
            + """
@workflow(triggers=[S3Trigger(prefix="incoming/", suffix=".csv", input="data"), S3Trigger(input="data")])
def wf(data: File, parts: int = 3) -> int:
    return size(data=data)
""",
        )
    )
    spec = lower(module.wf)
    assert spec.triggers == (
        ir.TriggerSpec(kind="s3", prefix="incoming/", suffix=".csv", input="data"),
        ir.TriggerSpec(kind="s3", prefix="", suffix="", input="data"),
    )


def test_empty_prefix_and_suffix_is_allowed() -> None:
    @task
    def count(data: File) -> int:
        return 0

    @workflow(triggers=[S3Trigger(input="data")])
    def everything(data: File) -> int:
        return count(data=data)

    assert lower(everything).triggers == (ir.TriggerSpec(input="data"),)


def test_a_workflow_without_triggers_has_none() -> None:
    @task
    def one(x: int) -> int:
        return x

    @workflow
    def plain(x: int) -> int:
        return one(x=x)

    assert lower(plain).triggers == ()
