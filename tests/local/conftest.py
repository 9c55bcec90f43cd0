"""Fixtures of the local-executor tests."""

from __future__ import annotations

import pytest

from tests.local._map_modes import MAP_MODES


@pytest.fixture(params=MAP_MODES)
def map_mode(request: pytest.FixtureRequest) -> str:
    """Where map items run: 'threads' or 'processes' (each map test runs once per mode)."""
    mode: str = request.param
    return mode
