"""The local executor: parallelism, retries, timeouts, failures, map_task and files."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import InputError, TaskTimeoutError
from stratoflow.lower import lower
from tests.local import _tasks
from tests.local._map_modes import run_in


def run(wf: Any, options: RunOptions, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, options)


def test_runs_the_ir_and_returns_outputs(fast_options: RunOptions) -> None:
    result = run(_tasks.diamond, fast_options, x=2)
    # a = 3; double(a) + inc(a) = 6 + 4
    assert result.outputs == {"o0": 10}
    assert result.executed == {"inc", "double", "inc_2", "add"}
    assert result.cache_hits == set()


def test_independent_nodes_run_in_parallel(fast_options: RunOptions) -> None:
    _tasks.BARRIER.reset()
    # Both `meet` tasks block on a Barrier(2): this only completes if they run at the same time.
    result = run(_tasks.rendezvous, fast_options)
    assert result.outputs == {"o0": "leftright"}
    assert not _tasks.BARRIER.broken


def test_sequential_run_cannot_meet_at_the_barrier(monkeypatch: pytest.MonkeyPatch) -> None:
    # The control for the test above: with one worker the siblings cannot meet, and the run fails.
    monkeypatch.setattr(_tasks, "BARRIER", threading.Barrier(2, timeout=0.2))
    options = RunOptions(max_workers=1, retry_base_seconds=0.01, progress=False)
    with pytest.raises(TaskFailedError) as info:
        run(_tasks.rendezvous, options)
    assert info.value.error_type == "BrokenBarrierError"


def test_a_task_that_fails_twice_succeeds_with_two_retries(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    result = run(_tasks.flaky_wf, fast_options, counter=str(counter), failures=2)
    assert result.outputs == {"o0": 3}
    assert _tasks.count(counter) == 3


def test_retries_are_bounded(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    with pytest.raises(TaskFailedError) as info:
        run(_tasks.flaky_wf, fast_options, counter=str(counter), failures=10)
    assert _tasks.count(counter) == 3  # retries=2: three attempts, then give up
    assert info.value.attempt == 3
    assert info.value.node == "flaky"
    assert "flaky failure 3" in str(info.value)


def test_timeout_fails_with_task_timeout_error_and_is_retried(
    tmp_path: Path, fast_options: RunOptions
) -> None:
    counter = tmp_path / "calls"
    with pytest.raises(TaskTimeoutError) as info:
        run(_tasks.sleepy_wf, fast_options, counter=str(counter), seconds=30.0)
    assert info.value.node == "sleepy"
    assert info.value.attempt == 2  # timeout=1, retries=1: the timed-out attempt was retried once
    assert "timed out after 1s" in str(info.value)
    assert _tasks.count(counter) == 2


def test_a_task_within_its_timeout_succeeds(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    assert run(_tasks.sleepy_wf, fast_options, counter=str(counter), seconds=0.0).outputs == {"o0": 1}


def test_failure_names_the_node_and_chains_the_user_exception(
    tmp_path: Path, fast_options: RunOptions
) -> None:
    marker = tmp_path / "dependents-ran"
    with pytest.raises(TaskFailedError) as info:
        run(_tasks.failing, fast_options, x=42, marker=str(marker))
    error = info.value
    assert error.node == "explode"
    assert "node 'explode'" in str(error)
    assert "ValueError: boom 42" in str(error)
    assert error.error_type == "ValueError"
    assert isinstance(error.__cause__, ValueError)
    assert error.__cause__.args == ("boom 42",)
    assert error.traceback_text is not None
    assert "ValueError: boom 42" in error.traceback_text
    assert "in explode" in error.traceback_text  # the user's frame is kept
    # Neither dependent (record, then record again) ever ran.
    assert not marker.exists()


def test_invalid_inputs_are_rejected_before_anything_runs(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    with pytest.raises(InputError) as info:
        run(_tasks.flaky_wf, fast_options, counter=str(counter), failures="two")
    assert info.value.input_name == "failures"
    assert not counter.exists()


def test_a_list_built_from_promises_feeds_one_task(fast_options: RunOptions) -> None:
    assert run(_tasks.fan_in, fast_options, x=5).outputs == {"o0": 6 + 10 + 5}


# --- map_task (each test on threads and on worker processes) ---------------------------------


def test_map_keeps_item_order(fast_options: RunOptions, map_mode: str) -> None:
    xs = list(range(20))
    assert run_in(map_mode, _tasks.squares, fast_options, xs=xs).outputs == {"o0": [x * x for x in xs]}


def test_map_over_an_upstream_output(fast_options: RunOptions, map_mode: str) -> None:
    assert run_in(map_mode, _tasks.squares_total, fast_options, n=12).outputs == {
        "o0": sum(i * i for i in range(12))
    }


def test_map_zips_several_list_inputs(fast_options: RunOptions, map_mode: str) -> None:
    result = run_in(map_mode, _tasks.zipped, fast_options, a=[1, 2, 3], b=[10, 20, 30])
    assert result.outputs == {"o0": [11, 22, 33]}


def test_map_rejects_lists_of_different_lengths(fast_options: RunOptions, map_mode: str) -> None:
    with pytest.raises(TaskFailedError, match="different lengths"):
        run_in(map_mode, _tasks.zipped, fast_options, a=[1, 2, 3], b=[10, 20])


def test_map_with_a_partial_binds_an_input(fast_options: RunOptions, map_mode: str) -> None:
    assert run_in(map_mode, _tasks.tripled, fast_options, xs=[1, 2, 5]).outputs == {"o0": [3, 6, 15]}


def test_map_broadcasts_a_scalar_input(fast_options: RunOptions, map_mode: str) -> None:
    assert run_in(map_mode, _tasks.broadcast, fast_options, xs=[1, 2, 5], factor=7).outputs == {
        "o0": [7, 14, 35]
    }


def test_map_tolerates_failures_down_to_min_success_ratio(fast_options: RunOptions, map_mode: str) -> None:
    result = run_in(map_mode, _tasks.tolerant, fast_options, xs=[1, -2, 3, 4])
    assert result.outputs == {"o0": [10, None, 30, 40]}


def test_map_fails_below_min_success_ratio_with_a_clear_message(
    fast_options: RunOptions, map_mode: str
) -> None:
    with pytest.raises(TaskFailedError) as info:
        run_in(map_mode, _tasks.strict, fast_options, xs=[1, -2, -3, 4])
    message = str(info.value)
    assert info.value.node == "map_fragile"
    assert "2 of 4 items failed" in message
    assert "min_success_ratio=0.75" in message
    assert "negative item -2" in message  # the first item errors are quoted
    assert isinstance(info.value.__cause__, TaskFailedError)


def test_map_with_default_ratio_fails_on_any_item(fast_options: RunOptions, map_mode: str) -> None:
    with pytest.raises(TaskFailedError, match="1 of 3 items failed"):
        run_in(map_mode, _tasks.all_or_nothing, fast_options, xs=[1, -1, 2])


def test_map_over_an_empty_list(fast_options: RunOptions, map_mode: str) -> None:
    assert run_in(map_mode, _tasks.squares, fast_options, xs=[]).outputs == {"o0": []}


def test_map_task_outside_a_workflow_is_plain_python() -> None:
    from stratoflow import map_task

    assert map_task(_tasks.add)(a=[1, 2], b=[3, 4]) == [4, 6]


# --- files -------------------------------------------------------------------------------------


def test_files_pass_between_tasks(fast_options: RunOptions, stratoflow_home: Path) -> None:
    result = run(_tasks.file_chain, fast_options, text="hello files")
    text, loud = result.outputs["o0"], result.outputs["o1"]
    assert text == "HELLO FILES"
    with loud.open(encoding="utf-8") as handle:
        assert handle.read() == "HELLO FILES"
    # The output File is a copy in the run's outputs folder, not left at the task's scratch
    # path (issue 14: under its own name, not the blob store's digest).
    assert Path(loud.uri).resolve().parent == stratoflow_home.resolve() / "outputs" / result.run_id


def test_a_file_input_is_read_by_a_task(tmp_path: Path, fast_options: RunOptions) -> None:
    data = tmp_path / "in.txt"
    data.write_text("line one\nline two\n", encoding="utf-8")
    assert run(_tasks.read_input_file, fast_options, data=str(data)).outputs == {"o0": "line one\nline two\n"}


def test_a_missing_input_file_is_an_input_error(tmp_path: Path, fast_options: RunOptions) -> None:
    with pytest.raises(InputError) as info:
        run(_tasks.read_input_file, fast_options, data=str(tmp_path / "nope.txt"))
    assert info.value.input_name == "data"


def test_directories_pass_between_tasks(fast_options: RunOptions) -> None:
    result = run(_tasks.tree_chain, fast_options, names=["a", "b"])
    assert result.outputs == {"o0": {"nested/a.txt": "aa", "nested/b.txt": "bb"}}


def test_a_dataclass_holding_a_file_passes_between_tasks(fast_options: RunOptions) -> None:
    assert run(_tasks.bundle_chain, fast_options, text="hello world").outputs == {"o0": "hel|hello world|11"}


def test_pydantic_models_pass_between_tasks(fast_options: RunOptions) -> None:
    result = run(_tasks.billing, fast_options, customer="acme", lines=[1.5, 2])
    assert result.outputs == {"o0": _tasks.Invoice(customer="acme", lines=[1.5, 2.0], paid=True)}


def test_map_items_run_in_parallel(monkeypatch: pytest.MonkeyPatch, fast_options: RunOptions) -> None:
    # Two items meet at a Barrier(2): only possible if they run at the same time.
    monkeypatch.setattr(_tasks, "ITEM_BARRIER", threading.Barrier(2, timeout=10))
    assert run(_tasks.mapped_meeting, fast_options, xs=[0, 1]).outputs == {"o0": [0, 1]}


def test_run_options_home_overrides_the_environment(tmp_path: Path, stratoflow_home: Path) -> None:
    home = tmp_path / "explicit-home"
    options = RunOptions(home=home, retry_base_seconds=0.01, progress=False)
    run(_tasks.file_chain, options, text="x")
    assert (home / "blobs").is_dir()
    assert not (stratoflow_home / "blobs").exists()


def test_a_timed_out_attempt_that_finishes_later_writes_no_cache_entry(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    from stratoflow.cache import SqliteCacheStore

    marker = tmp_path / "finished"
    with pytest.raises(TaskTimeoutError):
        run(_tasks.slow_cached_wf, fast_options, x=1, marker=str(marker), seconds=1.5)
    # Python cannot kill the abandoned thread: wait for it to finish its body, then check it stored nothing.
    for thread in threading.enumerate():
        if "slow_cached" in thread.name:
            thread.join(30)
    deadline = time.monotonic() + 30
    while _tasks.count(marker) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _tasks.count(marker) == 1
    assert list(SqliteCacheStore(stratoflow_home / "cache.sqlite").entries()) == []
    # ...so a later run computes again (here quickly enough to succeed) instead of hitting.
    result = run(_tasks.slow_cached_wf, fast_options, x=1, marker=str(marker), seconds=0.0)
    assert result.executed == {"slow_cached"}
    assert _tasks.count(marker) == 2


def test_nested_lists_built_from_promises(fast_options: RunOptions) -> None:
    # [[x + 1], [2x, 3], []] with x = 4
    assert run(_tasks.nested_fan_in, fast_options, x=4).outputs == {"o0": 5 + 8 + 3}


def test_map_over_files_and_an_optional_file(tmp_path: Path, fast_options: RunOptions, map_mode: str) -> None:
    (tmp_path / "a").write_bytes(b"aaa")
    (tmp_path / "b").write_bytes(b"b")
    files = [str(tmp_path / "a"), str(tmp_path / "b")]
    assert run_in(map_mode, _tasks.file_sizes, fast_options, files=files).outputs == {"o0": [3, 1], "o1": -1}
    result = run_in(map_mode, _tasks.file_sizes, fast_options, files=[], extra=str(tmp_path / "a"))
    assert result.outputs == {"o0": [], "o1": 3}
