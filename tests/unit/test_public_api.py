"""The curated public API is pinned: adding or removing a name is a deliberate, reviewed change."""

from __future__ import annotations

import pytest

import stratoflow
from stratoflow import errors

EXPECTED_ALL = [
    "ActorEnvironment",
    "Checkpoint",
    "Client",
    "CompileError",
    "CronSchedule",
    "Deck",
    "DefinitionError",
    "Directory",
    "Echo",
    "Email",
    "ExecutionError",
    "ExecutionParameters",
    "File",
    "FixedRate",
    "FlyteContext",
    "FlyteContextManager",
    "FlyteDirectory",
    "FlyteError",
    "FlyteFile",
    "HashMethod",
    "ImageSpec",
    "InputError",
    "LaunchPlan",
    "PagerDuty",
    "Resources",
    "S3Trigger",
    "SdkError",
    "Secret",
    "Slack",
    "StructuredDataset",
    "TaskFailedError",
    "Webhook",
    "Workflow",
    "WorkflowDef",
    "WorkflowExecutionPhase",
    "WorkflowFailurePolicy",
    "actor_cache",
    "approve",
    "conditional",
    "create_node",
    "current_context",
    "dynamic",
    "errors",
    "kwtypes",
    "map_task",
    "sleep",
    "task",
    "wait_for_input",
    "workflow",
]

# What users of stratoflow.testing need; the rest of the package is private.
EXPECTED_TESTING = [
    "ContainerReclaimed",
    "EmulatedAws",
    "ExecutionResult",
    "FakeLambdaContext",
    "Sandbox",
    "SpotInterruption",
    "StackDeployError",
    "StackSandbox",
    "Undo",
    "install_all",
    "install_batch_inprocess",
    "install_cfn_custom_resources",
    "install_cfn_definition_substitutions",
    "install_cfn_lambda_images",
    "install_cfn_sfn_parser_backend",
    "install_cfn_skip_unsupported",
    "install_client_cache",
    "install_definition_rewrites",
    "install_early_stop_fix",
    "install_ecs",
    "install_ecs_inprocess",
    "install_ecs_sync_failure",
    "install_events_to_lambda",
    "install_fast_timers",
    "install_integration_normalisation",
    "install_jsonata",
    "install_jsonpath_fix",
    "install_lambda_inprocess",
    "install_map_tolerance",
    "install_retry_sync_fix",
    "install_runtime_error_capture",
    "install_sfn_fixes",
    "uninstall_all",
]

EXPECTED_ERRORS = [
    "CacheError",
    "CompileError",
    "ConfigError",
    "DefinitionError",
    "ExecutionError",
    "InputError",
    "IntegrityError",
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


def test_client_is_exported_lazily_and_is_the_client_class() -> None:
    from stratoflow.client import Client

    assert stratoflow.Client is Client
    assert "Client" not in vars(stratoflow)  # served by the module __getattr__, not bound at import


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = stratoflow.Nope  # type: ignore[attr-defined]


def test_shape_outputs_is_not_public() -> None:
    assert not hasattr(stratoflow, "shape_outputs")


def test_testing_exports_are_pinned() -> None:
    testing = pytest.importorskip("stratoflow.testing")
    assert list(testing.__all__) == EXPECTED_TESTING
    assert sorted(set(testing.__all__)) == list(testing.__all__)
    assert all(hasattr(testing, name) for name in testing.__all__)
    public = {name for name in vars(testing) if not name.startswith("_")} - {"annotations"}
    assert public == set(EXPECTED_TESTING), "a name leaked into stratoflow.testing's namespace"
