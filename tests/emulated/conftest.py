"""Fixtures for the emulated-AWS tier: an ``EmulatedAws`` per test, patched or as shipped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import stratoflow  # noqa: F401
except ImportError:  # not installed into the venv: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sdk"))

from stratoflow.testing import EmulatedAws


@pytest.fixture
def aws() -> Iterator[EmulatedAws]:
    """moto with every stratoflow patch installed."""
    with EmulatedAws() as emulated:
        yield emulated


@pytest.fixture
def raw_aws() -> Iterator[EmulatedAws]:
    """moto 5.2.5 as shipped: no stratoflow patch installed."""
    with EmulatedAws(patched=False) as emulated:
        yield emulated
