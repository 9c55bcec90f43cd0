"""One test per DefinitionError of ``@workflow(on_failure=...)``: the exact message and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import Workflow, WorkflowFailurePolicy, task
from stratoflow.lower import lower
from tests.define._cases import definition_error, import_path, write_module

# The decorator is on line 17 of every case.
HEAD = """\
from stratoflow import WorkflowFailurePolicy, task, workflow


@task
def clean_up(name: str) -> None:
    pass


@task
def clean_count(name: int) -> None:
    pass


def not_a_task(name: str) -> None:
    pass
"""

BODY = """
@workflow(on_failure={handler})
def wf(name: str, x: int) -> None:
    pass
"""

CASES = [
    (
        "not_a_task",
        "on_failure of workflow 'wf' must be a @task (or a @workflow calling one task), got function",
    ),
    (
        "clean_count",
        "on_failure task 'clean_count' input 'name' is int, but workflow 'wf' input 'name' is str",
    ),
]


@pytest.mark.parametrize(("handler", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_failure_handler_is_reported_at_the_decorator(
    tmp_path: Path, handler: str, message: str
) -> None:
    path, error = definition_error(tmp_path, HEAD + BODY.format(handler=handler))
    [problem] = error.problems
    assert (problem.message, problem.line) == (message, 17)
    assert problem.path.endswith(path.name)


def test_a_handler_reading_something_the_workflow_lacks_is_reported(tmp_path: Path) -> None:
    source = HEAD + BODY.format(handler="clean_up").replace("def wf(name: str,", "def wf(")
    _, error = definition_error(tmp_path, source)
    [problem] = error.problems
    assert problem.line == 17
    assert problem.message == (
        "on_failure task 'clean_up' input 'name' is not an input of workflow 'wf' "
        "(a failure handler is called with the workflow's inputs)"
    )


def test_a_handler_and_a_policy_are_recorded_in_the_spec(tmp_path: Path) -> None:
    source = HEAD + BODY.format(handler="clean_up").replace(
        "on_failure=clean_up",
        "on_failure=clean_up, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE",
    )
    spec = lower(import_path(write_module(tmp_path, source)).wf)
    assert spec.on_failure is not None and spec.on_failure.id == "clean_up"
    assert spec.on_failure.inputs == {"name": spec.on_failure.inputs["name"]}
    assert spec.tasks[spec.on_failure.task].name == "clean_up"
    assert spec.failure_policy == "fail_after_executable_nodes_complete"
    assert WorkflowFailurePolicy.FAIL_IMMEDIATELY.value == "fail_immediately"


def test_a_spec_without_failure_handling_keeps_its_json(tmp_path: Path) -> None:
    source = HEAD + BODY.format(handler="None")
    spec = lower(import_path(write_module(tmp_path, source)).wf)
    dumped = spec.model_dump(mode="json")
    assert "on_failure" not in dumped and "failure_policy" not in dumped


def test_the_imperative_builder_takes_flytekit_s_failure_policy() -> None:
    @task
    def inc(x: int) -> int:
        return x + 1

    built = Workflow(name="w", failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    built.add_workflow_input("x", int)
    built.add_workflow_output("o", built.add_entity(inc, x=built.inputs["x"]).outputs["o0"])
    spec = lower(built)
    assert spec.failure_policy == "fail_after_executable_nodes_complete" and spec.on_failure is None
    assert lower(Workflow(name="plain")).failure_policy == "fail_immediately"


HANDLER_WORKFLOWS = """\
from stratoflow import task, workflow


@task
def clean_up(name: str) -> None:
    pass


@workflow
def two_calls(name: str) -> None:
    clean_up(name=name)
    clean_up(name=name)


@workflow
def wants_zone(zone: str) -> None:
    clean_up(name=zone)


@workflow(on_failure={handler})
def wf(name: str) -> None:
    pass
"""


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (
            "two_calls",
            "on_failure workflow 'two_calls' must call exactly one task, it makes 2 call(s): a failure "
            "handler runs as one node (make it a @task, or a workflow of one task call)",
        ),
        (
            "wants_zone",
            "on_failure workflow 'wants_zone' input 'zone' is not an input of workflow 'wf' "
            "(a failure handler is called with the workflow's inputs)",
        ),
    ],
)
def test_a_bad_handler_workflow_is_reported_at_the_decorator(
    tmp_path: Path, handler: str, message: str
) -> None:
    _, error = definition_error(tmp_path, HANDLER_WORKFLOWS.format(handler=handler))
    [problem] = error.problems
    assert (problem.message, problem.line) == (message, 20)
