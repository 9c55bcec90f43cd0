"""Compile tests: ``--update-golden`` rewrites tests/compile/golden/*.asl.json on purpose."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden ASL files from the current compiler output (review the diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the golden files should be rewritten (``--update-golden`` or STRATOFLOW_UPDATE_GOLDEN=1)."""
    return (
        bool(request.config.getoption("--update-golden")) or os.environ.get("STRATOFLOW_UPDATE_GOLDEN") == "1"
    )
