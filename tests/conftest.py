"""Fixtures shared by every test tier.

Every test gets its own ``STRATOFLOW_HOME`` (cache and blobs), so no test reads or
writes ``~/.stratoflow`` and tests never see each other's cache entries.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before stratoflow loads: every IR model stratoflow builds unvalidated (`trusted`) is validated
# too and must come out the same, in this process and in the processes tests start.
os.environ.setdefault("STRATOFLOW_CHECK_IR", "1")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def stratoflow_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, per-test ``STRATOFLOW_HOME``."""
    home = tmp_path_factory.mktemp("stratoflow-home")
    monkeypatch.setenv("STRATOFLOW_HOME", str(home))
    return home


@pytest.fixture
def fast_options() -> Iterator[object]:
    """Run options that keep retries fast and never draw a progress bar."""
    from stratoflow.backends.local import RunOptions

    yield RunOptions(retry_base_seconds=0.01, progress=False)


@pytest.fixture
def subprocess_env(stratoflow_home: Path) -> dict[str, str]:
    """Environment for a child Python: same home, the repo importable (``tests.*`` task modules)."""
    env = dict(os.environ)
    env["STRATOFLOW_HOME"] = str(stratoflow_home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("COVERAGE_PROCESS_START", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="session")
def cdk_assembly(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The cdk.json app, synthesized once per test session and shared by the infra tests and
    the tests that deploy it into emulated CloudFormation. pytest-xdist workers of one
    session share the parent of their base temp dirs, so they share one synthesis."""
    from tests.infra.synth import synthesize_once

    base = tmp_path_factory.getbasetemp()
    return synthesize_once(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)


@pytest.fixture(scope="session")
def image_assembly(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The app of ``tests/images/image_flows.py`` (tasks with their own images), synthesized once per
    session like ``cdk_assembly`` and shared by the image infra and emulated tests."""
    from tests.infra.synth import IMAGE_APP, synthesize_once

    base = tmp_path_factory.getbasetemp()
    return synthesize_once(
        base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base, "images-assembly", IMAGE_APP
    )


@pytest.fixture
def python() -> str:
    """The interpreter running the tests (the project venv's)."""
    return sys.executable
