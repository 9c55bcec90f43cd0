"""cache_serialize=True: one node computes a key while its siblings wait and then hit the cache."""

from __future__ import annotations

from pathlib import Path

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from tests.local import serialize_flows


def test_serialized_siblings_compute_the_value_once(tmp_path: Path) -> None:
    serialize_flows.CALLS.clear()
    run = run_local(lower(serialize_flows.four_at_once), {"x": 6}, RunOptions(home=tmp_path, max_workers=4))
    assert run.outputs == {"o0": 4 * 36}
    assert serialize_flows.CALLS == [6]
    assert len(run.cache_hits) == 3
