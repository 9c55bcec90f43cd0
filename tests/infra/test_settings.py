"""Context -> StackSettings: workflows loaded and lowered, every bad value reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.constructs import DependencyBundling, PropsError
from infra.stacks import StackSettings
from tests.infra.conftest import cdk_json_context


def test_cdk_json_context() -> None:
    settings = StackSettings.from_context(cdk_json_context())
    assert [w.spec.name for w in settings.workflows] == ["sales_report", "features", "training", "digits"]
    assert [w.module_file.name for w in settings.workflows] == [
        "etl.py",
        "features.py",
        "training.py",
        "digits.py",
    ]
    assert settings.lambda_architecture == "arm64"
    assert settings.runner_dependencies is DependencyBundling.PIP
    assert settings.container_image is None
    assert settings.stack_name == "Stratoflow"


def test_every_problem_at_once() -> None:
    with pytest.raises(PropsError) as caught:
        StackSettings.from_context(
            {
                "stratoflow:workflows": ["examples/etl.py:nope", "examples/etl.py", "examples/missing.py:x"],
                "stratoflow:lambdaArchitecture": "sparc",
                "stratoflow:runnerDependencies": "maybe",
                "stratoflow:cacheTtlDays": 0,
            }
        )
    problems = caught.value.problems
    assert len(problems) == 6
    assert "no workflow named 'nope'" in problems[0]
    assert "expected 'FILE_OR_MODULE:WORKFLOW'" in problems[1]
    assert "no such file" in problems[2]
    assert "sparc" in problems[3]


def test_no_workflows() -> None:
    with pytest.raises(PropsError, match="must be a non-empty list"):
        StackSettings.from_context({})


def test_container_image_and_overrides(tmp_path: Path) -> None:
    settings = StackSettings.from_context(
        {
            **cdk_json_context(),
            "stratoflow:containerImage": "example/stratoflow-task:1",
            "stratoflow:runnerDependencies": "fake-for-tests",
            "stratoflow:bundleCacheDir": str(tmp_path),
            "stratoflow:lambdaArchitecture": "x86_64",
        }
    )
    assert settings.container_image == "example/stratoflow-task:1"
    assert settings.runner_dependencies is DependencyBundling.FAKE_FOR_TESTS
    assert settings.bundle_cache_dir == tmp_path
    assert settings.lambda_architecture == "x86_64"
