"""One test per DefinitionError of conditionals and ``>>``: the exact message and the line it names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from stratoflow import TaskFailedError
from tests.define._cases import definition_error, import_path, write_module

# Lines 1-18; a case body starts at line 19 (the first line of a workflow body is line 22).
TASKS = """\
from typing import Optional

from stratoflow import File, conditional, dynamic, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def to_text(x: int) -> str:
    return str(x)


@task
def load(f: File) -> int:
    return 1
"""


@dataclass(frozen=True)
class Case:
    id: str
    body: str
    problems: tuple[tuple[int, str, str | None], ...]  # (line, message, hint)


def _wf(*lines: str) -> str:
    return "\n@workflow\ndef wf(x: int, f: File, name: str) -> int:\n" + "".join(
        f"    {line}\n" for line in lines
    )


CASES = [
    Case(
        "compare-a-file",
        _wf(
            "return conditional('c').if_(f == 'a').then(inc(x=x)).else_().then(inc(x=x))",
        ),
        (
            (
                22,
                "cannot compare workflow input 'f' (File) in a condition; conditions compare int, float, "
                "str, bool, None, datetime, date, timedelta, Decimal or an Enum",
                None,
            ),
        ),
    ),
    Case(
        "compare-int-with-str",
        _wf("return conditional('c').if_(x == name).then(inc(x=x)).else_().then(inc(x=x))"),
        (
            (
                22,
                "cannot compare workflow input 'x' (int) == workflow input 'name' (str) in a condition",
                None,
            ),
        ),
    ),
    Case(
        "compare-with-a-list",
        _wf("return conditional('c').if_(x < [1]).then(inc(x=x)).else_().then(inc(x=x))"),
        (
            (
                22,
                "cannot compare workflow input 'x' (int) with list [1]; compare with an int, float, str, "
                "bool, None, datetime, date, timedelta, Decimal or an Enum constant, or another promise",
                None,
            ),
        ),
    ),
    Case(
        "is-true-on-an-int",
        _wf("return conditional('c').if_(x.is_true()).then(inc(x=x)).else_().then(inc(x=x))"),
        ((22, "is_true() needs a bool, but workflow input 'x' (int) is not", None),),
    ),
    Case(
        "cases-return-different-types",
        _wf(
            "y = conditional('c').if_(x > 1).then(inc(x=x)).else_().then(to_text(x=x))",
            "return inc(x=x)",
        ),
        ((22, "the cases of conditional 'c' return different types: (int) and (str)", None),),
    ),
    Case(
        "missing-else",
        _wf("y = conditional('c').if_(x > 1).then(inc(x=x))", "return inc(x=x)"),
        (
            (
                22,
                "conditional 'c' has no else_() in workflow 'wf'",
                'end it with .else_().then(...) or .else_().fail("message")',
            ),
        ),
    ),
    Case(
        "then-a-constant",
        _wf(
            "return conditional('c').if_(x > 1).then(inc(x=x)).else_().then(",
            "    3",
            ")",
        ),
        (
            (
                22,
                "then() of conditional 'c' takes the promise(s) a task or workflow call returns, got int 3",
                None,
            ),
        ),
    ),
    Case(
        "if-without-a-condition",
        _wf("return conditional('c').if_(True).then(inc(x=x)).else_().then(inc(x=x))"),
        (
            (
                22,
                "if_() of conditional 'c' takes a condition on promises (e.g. x > 0), got bool True",
                None,
            ),
        ),
    ),
    Case(
        "elif-before-then",
        _wf(
            "section = conditional('c')",
            "section.if_(x > 1)",
            "section.elif_(x > 2).then(inc(x=x))",
            "return section.else_().then(inc(x=x))",
        ),
        ((24, "conditional 'c': elif_() must follow then()", None),),
    ),
    Case(
        "if-twice",
        _wf(
            "section = conditional('c').if_(x > 1).then(inc(x=x))",
            "section.if_(x > 2)",
            "return inc(x=x)",
        ),
        (
            (23, "conditional 'c' has if_() twice; use elif_()", None),
            (
                22,
                "conditional 'c' has no else_() in workflow 'wf'",
                'end it with .else_().then(...) or .else_().fail("message")',
            ),
        ),
    ),
    Case(
        "and-with-a-bool",
        _wf("return conditional('c').if_((x > 1) & True).then(inc(x=x)).else_().then(inc(x=x))"),
        ((22, "'&' combines conditions, got bool True", None),),
    ),
    Case(
        "condition-in-python-if",
        _wf("if x > 1:", "    pass", "return inc(x=x)"),
        (
            (
                22,
                "workflow input 'x' is a promise and cannot be used as a Python value (truth test, e.g. 'if' "
                "or 'and') in workflow 'wf'",
                "pass it to a task; use @dynamic or map_task for data-dependent logic",
            ),
        ),
    ),
    Case(
        "order-a-workflow-input",
        _wf("y = inc(x=x)", "x >> y", "return y"),
        (
            (
                23,
                "'>>' orders task or workflow calls, got Promise(workflow input 'x': int); workflow inputs "
                "and constants need no ordering",
                None,
            ),
        ),
    ),
    Case(
        "order-into-a-case",
        _wf(
            "section = conditional('c').if_(x > 1)",
            "inner = inc(x=x)",
            "picked = section.then(inner).else_().then(inc(x=x))",
            "b = inc(x=x)",
            "b >> inner",
            "return picked",
        ),
        ((26, "'>>' orders calls of the same scope; node 'inc' is not one", None),),
    ),
    Case(
        "override-unknown",
        _wf("return inc(x=x).with_overrides(memory='1Gi')"),
        (
            (
                22,
                "with_overrides() of node 'inc': unknown override(s) memory; overrides are: accelerator, cache, "
                "cache_serialize, cache_version, container_image, interruptible, limits, name, requests, "
                "retries, timeout",
                None,
            ),
        ),
    ),
    Case(
        "override-invalid",
        _wf("return inc(x=x).with_overrides(retries=-1)"),
        ((22, "with_overrides() of node 'inc': retries must be >= 0, got -1", None),),
    ),
    Case(
        "override-container-image",
        _wf("return inc(x=x).with_overrides(container_image=3)"),
        (
            (
                22,
                "with_overrides() of node 'inc': container_image must be an image URI (str) or an "
                "ImageSpec, got int 3",
                None,
            ),
        ),
    ),
    Case(
        "override-container-image-empty",
        _wf("return inc(x=x).with_overrides(container_image=' ')"),
        (
            (
                22,
                "with_overrides() of node 'inc': container_image must be a non-empty image URI or an "
                "ImageSpec, got ' '",
                None,
            ),
        ),
    ),
    Case(
        "override-an-input",
        _wf("x.with_overrides(retries=1)", "return inc(x=x)"),
        ((22, "with_overrides() applies to a task call, got Promise(workflow input 'x': int)", None),),
    ),
    Case(
        "override-a-conditional",
        _wf(
            "return conditional('c').if_(x > 1).then(inc(x=x)).else_().then(inc(x=x)).with_overrides(retries=1)"
        ),
        (
            (
                22,
                "with_overrides() applies to a task or map_task call of the same scope; node 'c' is not one",
                None,
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_definition_error_message_and_line(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, TASKS + case.body)
    got = [(p.line, p.message, p.hint) for p in error.problems]
    assert got == list(case.problems)
    assert all(Path(p.path).resolve() == path.resolve() for p in error.problems)


def test_a_conditional_in_a_dynamic_body_says_to_use_python_if(tmp_path: Path) -> None:
    source = TASKS + (
        "\n@dynamic\ndef dyn(x: int) -> int:\n"
        "    return conditional('c').if_(inc(x=x) > 1).then(inc(x=x)).else_().then(inc(x=x))\n"
        "\n\n@workflow\ndef wf(x: int) -> int:\n    return dyn(x=x)\n"
    )
    path = write_module(tmp_path, source)
    module = import_path(path)
    with pytest.raises(TaskFailedError) as info:  # the body runs (and is traced) when the node runs
        module.wf(x=1)
    assert (
        f"{path.name}:22:12: error: conditional 'c' in @dynamic task 'dyn' is not supported: the body "
        in str(info.value)
    )
    assert str(info.value).endswith("sees real inputs, so use a Python 'if'")


def test_enum_members_have_no_order(tmp_path: Path) -> None:
    source = TASKS + (
        "\nimport enum\n\nclass Color(enum.Enum):\n    RED = 'red'\n\n\n@workflow\ndef wf(c: Color) -> int:\n"
        "    return conditional('c').if_(c < Color.RED).then(inc(x=1)).else_().then(inc(x=2))\n"
    )
    _, error = definition_error(tmp_path, source)
    assert [(p.line, p.message) for p in error.problems] == [
        (28, "cannot compare workflow input 'c' (Color) < Color.RED (Color) in a condition")
    ]
