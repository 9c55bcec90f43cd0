"""The infra tests read one cloud assembly, synthesized once per session (``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("aws_cdk", reason="the infra tests need the cdk extra: pip install -e '.[cdk]' cfn-lint")

from tests.infra.synth import REPO, Synth, cdk_json_context

__all__ = ["REPO", "Synth", "cdk_json_context"]


@pytest.fixture(scope="session")
def synth(cdk_assembly: Synth) -> Synth:
    return cdk_assembly


@pytest.fixture(scope="session")
def bundle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle cache for tests that synthesize constructs of their own."""
    return tmp_path_factory.mktemp("cdk-cache")
