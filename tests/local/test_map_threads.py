"""Map items start on the run's own thread and take worker threads only when the map is slow."""

from __future__ import annotations

import threading

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.backends.local import _map as local_map
from stratoflow.lower import lower
from tests.local import _tasks


def _threads(options: RunOptions, items: int, pause: float) -> list[str]:
    options = options._replace(max_workers=4)
    result = run_local(lower(_tasks.mapped_threads), {"xs": list(range(items)), "pause": pause}, options)
    names: list[str] = result.outputs["o0"]
    assert len(names) == items
    return names


def test_a_map_done_within_the_grace_runs_on_the_calling_thread_alone(
    monkeypatch: pytest.MonkeyPatch, fast_options: RunOptions
) -> None:
    monkeypatch.setattr(local_map, "_SPREAD_AFTER_SECONDS", 60.0)  # a grace no loaded machine outlasts
    before = threading.active_count()
    names = _threads(fast_options, items=200, pause=0)
    assert len(set(names)) == 1
    assert not names[0].startswith("map-")
    assert threading.active_count() == before  # no worker thread, no timer left behind


def test_a_map_past_the_grace_spreads_over_every_worker(
    monkeypatch: pytest.MonkeyPatch, fast_options: RunOptions
) -> None:
    monkeypatch.setattr(local_map, "_SPREAD_AFTER_SECONDS", 0.01)
    names = set(_threads(fast_options, items=80, pause=0.01))
    assert len(names) == 4  # the calling thread and 3 workers
    assert sum(name.startswith("map-") for name in names) == 3
