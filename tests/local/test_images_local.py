"""Locally, tasks with an image run in the current interpreter; a module their image would
install but this interpreter lacks fails with what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import ImageSpec, TaskFailedError, task, workflow
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from tests.images import image_flows

PREBUILT = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tools:1"


@task(container_image=PREBUILT)
def top_level_import(x: int) -> int:
    import stratoflow_absent_tool  # noqa: F401

    return x


@task
def plain_import(x: int) -> int:
    import stratoflow_absent_tool  # noqa: F401

    return x


@workflow
def prebuilt(x: int) -> int:
    return top_level_import(x=x)


@workflow
def no_image(x: int) -> int:
    return plain_import(x=x)


def _run(wf: object, tmp_path: Path, **inputs: object) -> dict[str, object]:
    return run_local(lower(wf), inputs, RunOptions(home=tmp_path, progress=False)).outputs  # type: ignore[arg-type]


def test_image_tasks_run_in_the_current_interpreter(tmp_path: Path) -> None:
    assert _run(image_flows.images_b, tmp_path, n=4) == {"o0": "FIT=6 SCORE=14"}


def test_a_missing_module_names_the_task_the_module_and_the_image_spec(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as raised:
        _run(image_flows.missing_module, tmp_path, x=1)
    message = str(raised.value)
    assert message.startswith("task in node 'needs_module' failed (attempt 1): ")
    assert message.endswith(
        "task 'needs_module' needs module 'stratoflow_no_such_module', which is not installed; its ImageSpec "
        "'needs-a-module' (packages: stratoflow-no-such-package==1.0) must provide it (locally, tasks run in "
        "the current interpreter: install the packages there)"
    )
    assert raised.value.error_type == "ModuleNotFoundError"
    assert "\n" not in message


def test_a_prebuilt_image_is_named_by_its_uri(tmp_path: Path) -> None:
    with pytest.raises(
        TaskFailedError,
        match=r"needs module 'stratoflow_absent_tool', which is not installed; its image "
        r"123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/tools:1 must provide it",
    ):
        _run(prebuilt, tmp_path, x=1)


def test_a_task_without_an_image_keeps_the_plain_message(tmp_path: Path) -> None:
    with pytest.raises(TaskFailedError) as raised:
        _run(no_image, tmp_path, x=1)
    assert str(raised.value) == (
        "task in node 'plain_import' failed (attempt 1): ModuleNotFoundError: No module named 'stratoflow_absent_tool'"
    )


def test_the_requirements_file_is_named_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("reqs.txt").write_text("stratoflow-absent-tool==2\n")

    @task(container_image=ImageSpec(name="tools", requirements="reqs.txt"))
    def needs(x: int) -> int:
        import stratoflow_absent_tool  # noqa: F401

        return x

    @workflow
    def wf(x: int) -> int:
        return needs(x=x)

    with pytest.raises(
        TaskFailedError, match=r"its ImageSpec 'tools' \(packages: no pip packages and reqs\.txt\)"
    ):
        _run(wf, tmp_path, x=1)
