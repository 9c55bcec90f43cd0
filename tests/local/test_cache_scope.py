"""Cache entries belong to a workflow (least privilege per workflow, issue 9 item 4): the same task
with the same inputs in another workflow is a miss, locally as on AWS (the same key function)."""

from __future__ import annotations

from pathlib import Path

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cache import SqliteCacheStore
from stratoflow.ir import protocol
from stratoflow.lower import lower
from tests.local import _cache_tasks as ct
from tests.local._tasks import count


def test_a_task_s_cache_is_not_shared_across_workflows(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker = tmp_path / "marker"
    first = run_local(lower(ct.doubled), {"x": 3, "marker": str(marker)}, fast_options)
    assert first.executed == {"cached_double", "cached_inc"}
    elsewhere = run_local(lower(ct.doubled_elsewhere), {"x": 3, "marker": str(marker)}, fast_options)
    assert elsewhere.outputs == first.outputs == {"o0": 7}
    assert elsewhere.executed == {"cached_double", "cached_inc"}  # its own entries: a miss
    assert count(marker) == 4
    again = run_local(lower(ct.doubled), {"x": 3, "marker": str(marker)}, fast_options)
    assert again.cache_hits == {"cached_double", "cached_inc"}
    assert count(marker) == 4
    store = SqliteCacheStore(stratoflow_home / "cache.sqlite")
    keys = sorted(key for key, _ in store.entries())
    assert [key.split("/", 1)[0] for key in keys] == ["doubled"] * 2 + ["doubled_elsewhere"] * 2
    # The key is the workflow's item key of the one cache-key function's key.
    assert all(key == protocol.cache_item_key(key.split("/")[0], key.split("/")[1]) for key in keys)


def test_a_local_run_keeps_its_objects_under_its_workflow(
    fast_options: RunOptions, stratoflow_home: Path
) -> None:
    from tests.flyte_compat.flows import context_flows

    run_local(lower(context_flows.resume_wf), {}, fast_options, run_id="scoped-1")
    runs = stratoflow_home / protocol.RUNS_PREFIX
    assert [p.name for p in runs.iterdir()] == ["resume_wf"]
    assert (stratoflow_home / protocol.checkpoints_prefix("resume_wf", "scoped-1", "count_on")).is_dir()
