"""``--overwrite-cache`` (Flyte's ``overwrite_cache``): cached tasks read nothing and run again, on
threads, in worker processes, in actor workers and inside a ``@dynamic``, and each result
replaces the entry of its key, which the next plain run is served from."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from stratoflow import cli
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import CacheEntry, OverwritingCacheStore, SqliteCacheStore
from stratoflow.lower import lower
from tests.local import _actor_flows as af
from tests.local import _cache_tasks as ct
from tests.local._map_modes import MAP_MODES, run_in
from tests.local._tasks import count


def _created(home: Path) -> dict[str, float]:
    with sqlite3.connect(home / "cache.sqlite") as db:
        return dict(db.execute("SELECT key, created FROM cache").fetchall())


@pytest.mark.parametrize("mode", MAP_MODES)
def test_an_overwriting_run_runs_cached_items_again_and_replaces_their_entries(
    mode: str, tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker, flag = tmp_path / "ran", tmp_path / "flag"
    inputs: dict[str, Any] = {"xs": [1, 2, 3], "marker": str(marker), "flag": str(flag)}
    assert run_in(mode, ct.mapped_squares, fast_options, **inputs).outputs == {"o0": [1, 4, 9]}
    before = _created(stratoflow_home)
    overwriting = fast_options._replace(overwrite_cache=True)
    again = run_in(mode, ct.mapped_squares, overwriting, **inputs)
    assert again.outputs == {"o0": [1, 4, 9]} and count(marker) == 6  # every item ran again
    after = _created(stratoflow_home)
    assert after.keys() == before.keys() and all(after[key] > before[key] for key in before)
    assert run_in(mode, ct.mapped_squares, fast_options, **inputs).outputs == {"o0": [1, 4, 9]}
    assert count(marker) == 6  # the plain run after it is served the replaced entries


def test_actor_workers_overwrite_too(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    first = run_local(lower(af.squares_cached), {"xs": [1, 2], "counter": str(counter)}, fast_options)
    overwriting = fast_options._replace(overwrite_cache=True)
    again = run_local(lower(af.squares_cached), {"xs": [1, 2], "counter": str(counter)}, overwriting)
    assert again.outputs == first.outputs and count(counter) == 6  # 3 calls, then all 3 again
    assert not again.cache_hits


def test_the_overwriting_store_reads_nothing_and_replaces(tmp_path: Path) -> None:
    store = SqliteCacheStore(tmp_path / "cache.sqlite")
    old = CacheEntry(task="m:t", version="1", outputs={}, created=1.0)
    new = CacheEntry(task="m:t", version="1", outputs={}, created=2.0)
    assert store.put("k", old) is True and store.put("k", new) is False  # the first writer wins
    overwriting = OverwritingCacheStore(store)
    assert overwriting.get("k") is None and overwriting.get_many(["k"]) == {}
    assert overwriting.put("k", new) is True
    entry = store.get("k")
    assert entry is not None and entry.created == 2.0


def test_the_cli_option_overwrites(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    argv = ["run", "--json", str(Path(ct.__file__)), "doubled", "--x", "3", "--marker", str(marker)]
    assert cli.main(argv) == 0 and cli.main(argv) == 0 and count(marker) == 2  # its two tasks, once
    assert cli.main(["run", "--overwrite-cache", *argv[1:]]) == 0 and count(marker) == 4
    assert capsys.readouterr().out.splitlines() == ['{"o0": 7}'] * 3


def test_overwrite_cache_and_no_cache_are_refused_together_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    code = cli.main(
        [
            "run",
            "--overwrite-cache",
            "--no-cache",
            str(Path(ct.__file__)),
            "doubled",
            "--x",
            "3",
            "--marker",
            str(marker),
        ]
    )
    assert code == 2 and count(marker) == 0
    assert capsys.readouterr().err == (
        "error: --overwrite-cache and --no-cache do not go together: a run without a cache writes none\n"
    )
