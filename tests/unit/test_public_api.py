"""The curated public API is pinned: adding or removing a name is a deliberate, reviewed change."""

from __future__ import annotations

import stratoflow
from stratoflow import errors

EXPECTED_ALL = [
    "CompileError",
    "DefinitionError",
    "Directory",
    "ExecutionError",
    "File",
    "InputError",
    "Resources",
    "S3Trigger",
    "SdkError",
    "TaskFailedError",
    "WorkflowDef",
    "dynamic",
    "errors",
    "map_task",
    "shape_outputs",
    "task",
    "workflow",
]

EXPECTED_ERRORS = [
    "CacheError",
    "CompileError",
    "ConfigError",
    "DefinitionError",
    "ExecutionError",
    "InputError",
    "Problem",
    "SdkError",
    "TaskFailedError",
    "TaskTimeoutError",
]


def test_all_is_pinned() -> None:
    assert list(stratoflow.__all__) == EXPECTED_ALL


def test_all_is_sorted_and_unique() -> None:
    assert sorted(set(stratoflow.__all__)) == list(stratoflow.__all__)


def test_every_public_name_exists() -> None:
    missing = [name for name in stratoflow.__all__ if not hasattr(stratoflow, name)]
    assert missing == []


def test_errors_module_is_pinned() -> None:
    assert list(errors.__all__) == EXPECTED_ERRORS
    assert all(hasattr(errors, name) for name in errors.__all__)


def test_exception_tree() -> None:
    assert issubclass(errors.DefinitionError, errors.SdkError)
    assert issubclass(errors.CompileError, errors.SdkError)
    assert issubclass(errors.ExecutionError, errors.SdkError)
    assert issubclass(errors.ConfigError, errors.SdkError)
    assert issubclass(errors.InputError, errors.SdkError)
    assert issubclass(errors.TaskFailedError, errors.ExecutionError)
    assert issubclass(errors.TaskTimeoutError, errors.TaskFailedError)
    assert issubclass(errors.CacheError, errors.ExecutionError)
    # Never AssertionError / bare ValueError for user mistakes (STYLE §4).
    for name in EXPECTED_ERRORS:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name.endswith("Error")
            assert not issubclass(obj, AssertionError | ValueError)


def test_public_names_are_the_same_objects_as_in_their_modules() -> None:
    assert stratoflow.DefinitionError is errors.DefinitionError
    assert stratoflow.TaskFailedError is errors.TaskFailedError
    assert stratoflow.errors is errors
