"""One test per DefinitionError the Flyte-compatibility surface adds: its text and its line (STYLE §4).

Each case is a small module written to a real file; line 1 of the source is line 1 of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.define._cases import definition_error

# Lines 1-24; a case body starts at line 25.
TASKS = """\
from dataclasses import dataclass

from stratoflow import Workflow, task, workflow


@dataclass
class Fruit:
    name: str


@task
def fruits() -> list[str]:
    return ["apple"]


@task
def table() -> dict[int, str]:
    return {1: "one"}


@task
def fruit() -> Fruit:
    return Fruit(name="banana")
"""


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    problems: tuple[tuple[int, str, str | None], ...]  # (line, message, hint)


CASES = [
    Case(
        "tuple-annotation-of-one-item",
        """\
from stratoflow import task


@task
def one() -> (int,):
    return 1
""",
        ((5, "task 'one' returns a tuple of one item; annotate the item itself", None),),
    ),
    Case(
        "index-by-a-promise",
        TASKS
        + """
@workflow
def wf(i: int) -> str:
    return fruits()[i]
""",
        (
            (
                27,
                "output 'o0' of node 'fruits' in workflow 'wf' is indexed by a promise; the index must be a constant",
                "use @dynamic or map_task for data-dependent indexing",
            ),
        ),
    ),
    Case(
        "list-index-not-an-int",
        TASKS
        + """
@workflow
def wf() -> str:
    return fruits()["first"]
""",
        (
            (
                27,
                "output 'o0' of node 'fruits' in workflow 'wf' is a list[str]: its index must be an int, "
                "got str 'first'",
                None,
            ),
        ),
    ),
    Case(
        "dict-key-of-the-wrong-type",
        TASKS
        + """
@workflow
def wf() -> str:
    return table()["one"]
""",
        (
            (
                27,
                "output 'o0' of node 'table' in workflow 'wf' is a dict[int, str]: its keys are int, got str 'one'",
                None,
            ),
        ),
    ),
    Case(
        "dataclass-has-no-such-field",
        TASKS
        + """
@workflow
def wf() -> str:
    return fruit().nmae
""",
        (
            (
                27,
                "output 'o0' of node 'fruit' in workflow 'wf' is a Fruit, which has no field 'nmae'",
                "its fields are: name",
            ),
        ),
    ),
    Case(
        "dict-literal-key-of-the-wrong-type",
        TASKS
        + """
@workflow
def wf() -> dict[int, str]:
    return {"one": fruits()[0]}
""",
        (
            (26, "output 'o0' of workflow 'wf' keys must be int, got str 'one'", None),
        ),  # the return annotation
    ),
    # --- the imperative builder: the call that made the mistake raises ---------------------------
    Case(
        "imperative-duplicate-input",
        TASKS
        + """
wf = Workflow(name="imperative")
wf.add_workflow_input("x", int)
wf.add_workflow_input("x", str)
""",
        ((27, "workflow 'imperative' already has an input 'x'", None),),
    ),
    Case(
        "imperative-unsupported-input-type",
        TASKS
        + """
wf = Workflow(name="imperative")
wf.add_workflow_input("x", complex)
""",
        (
            (
                26,
                "workflow 'imperative' input 'x': type 'complex' is not supported (supported: int, float, str, "
                "bool, None, bytes, list[T], dict[K, T], Optional[T], dataclasses, pydantic models, File, "
                "Directory, datetime, date, timedelta, Decimal, Enum, pandas.DataFrame, pyarrow.Table)",
                None,
            ),
        ),
    ),
    Case(
        "imperative-entity-bad-argument",
        TASKS
        + """
wf = Workflow(name="imperative")
wf.add_workflow_input("x", int)
node = wf.add_entity(fruit, x=wf.inputs["x"])
""",
        (
            (
                27,
                "task 'fruit' got unexpected argument 'x' in workflow 'imperative'",
                "its inputs are: none",
            ),
        ),
    ),
    Case(
        "imperative-output-needs-a-type",
        TASKS
        + """
wf = Workflow(name="imperative")
node = wf.add_entity(fruits)
wf.add_workflow_output("both", [node.outputs["o0"], node.outputs["o0"]])
""",
        ((27, "workflow 'imperative' output 'both' needs python_type= when it is not a promise", None),),
    ),
    Case(
        "imperative-duplicate-output",
        TASKS
        + """
wf = Workflow(name="imperative")
node = wf.add_entity(fruits)
wf.add_workflow_output("out", node.outputs["o0"])
wf.add_workflow_output("out", node.outputs["o0"])
""",
        ((28, "workflow 'imperative' already has an output 'out'", None),),
    ),
    Case(
        "imperative-output-of-the-wrong-type",
        TASKS
        + """
wf = Workflow(name="imperative")
node = wf.add_entity(fruits)
wf.add_workflow_output("out", node.outputs["o0"], python_type=int)
""",
        (
            (
                27,
                "output 'out' of workflow 'imperative' expects int, but output 'o0' of node 'fruits' is list[str]",
                None,
            ),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_flyte_surface_definition_error_message_and_line(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, case.source)
    got = [(p.line, p.message, p.hint) for p in error.problems]
    assert got == list(case.problems)
    for problem in error.problems:
        assert Path(problem.path).resolve() == path.resolve()
