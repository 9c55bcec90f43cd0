"""map_task(processes=True): items in worker processes, with the same caching, retries,
min_success_ratio and order as on threads; and the per-map progress bar with item counts."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest

from stratoflow import TaskFailedError, ir
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.backends.local import _map_processes as local_map_processes
from stratoflow.lower import lower
from tests.local import _cache_tasks as ct
from tests.local import _process_tasks as pt
from tests.local._map_modes import in_mode, run_in
from tests.local._tasks import count


def run(wf: Any, options: RunOptions, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, options)


def test_processes_option_reaches_the_ir() -> None:
    (node,) = lower(pt.pids).nodes
    assert isinstance(node, ir.MapNode)
    assert node.processes is True
    (threads_node,) = lower(pt.pids_on_threads).nodes
    assert isinstance(threads_node, ir.MapNode)
    assert threads_node.processes is False


def test_items_run_in_other_processes(fast_options: RunOptions) -> None:
    pids = run(pt.pids, fast_options, xs=list(range(8))).outputs["o0"]
    assert len(pids) == 8
    assert os.getpid() not in pids


def test_without_the_option_items_run_in_this_process(fast_options: RunOptions) -> None:
    # The control for the test above: the same task on threads reports this process.
    assert set(run(pt.pids_on_threads, fast_options, xs=[0, 1, 2]).outputs["o0"]) == {os.getpid()}


def test_without_fork_items_fall_back_to_threads_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fast_options: RunOptions
) -> None:
    monkeypatch.setattr(local_map_processes, "fork_context", lambda: None)
    with caplog.at_level(logging.WARNING, logger="stratoflow.local"):
        pids = run(pt.pids, fast_options, xs=[0, 1]).outputs["o0"]
    assert set(pids) == {os.getpid()}
    assert "map node 'map_whoami' asked for processes" in caplog.text
    assert "run on threads instead" in caplog.text


def test_item_retries_in_processes(tmp_path: Path, fast_options: RunOptions) -> None:
    counters = tmp_path / "calls"
    result = run(pt.flaky_items, fast_options, xs=[0, 1, 2], counters=str(counters), failures=2)
    assert result.outputs == {"o0": [3, 3, 3]}  # each item: two failures, then success on attempt 3
    assert [count(f"{counters}-{i}") for i in range(3)] == [3, 3, 3]


def test_item_retries_are_bounded_in_processes(tmp_path: Path, fast_options: RunOptions) -> None:
    counters = tmp_path / "calls"
    with pytest.raises(TaskFailedError) as info:
        run(pt.flaky_items, fast_options, xs=[0, 1], counters=str(counters), failures=10)
    assert [count(f"{counters}-{i}") for i in range(2)] == [3, 3]  # retries=2: three attempts each
    assert "2 of 2 items failed" in str(info.value)
    assert "item 0 failure 3" in str(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, TaskFailedError)
    assert cause.attempt == 3
    assert cause.error_type == "RuntimeError"
    # The user's exception stayed in the worker; its traceback came back as text.
    assert cause.traceback_text is not None
    assert "in flaky_item" in cause.traceback_text


def test_map_items_are_cached_one_by_one_in_processes(
    tmp_path: Path, fast_options: RunOptions, stratoflow_home: Path
) -> None:
    marker, flag = tmp_path / "marker", tmp_path / "flag"
    flag.touch()
    xs = [0, 1, 2, 3]
    with pytest.raises(TaskFailedError, match="1 of 4 items failed"):
        run_in("processes", ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    # Every body ran in a worker process, and the workers' entries reached the shared cache.
    assert count(marker) == 4
    assert str(os.getpid()) not in marker.read_text(encoding="utf-8").split()
    flag.unlink()
    result = run_in("processes", ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert result.outputs == {"o0": [0, 1, 4, 9]}
    assert count(marker) == 5  # only the failed item ran again
    # ...and threads see the same entries: nothing runs.
    result = run_in("threads", ct.mapped_squares, fast_options, xs=xs, marker=str(marker), flag=str(flag))
    assert result.outputs == {"o0": [0, 1, 4, 9]}
    assert count(marker) == 5


def test_files_written_in_workers_reach_the_parent(fast_options: RunOptions) -> None:
    result = run(pt.files_from_processes, fast_options, texts=["a", "bb", "ccc"])
    assert result.outputs == {"o0": "a|bb|ccc"}


def test_a_dead_worker_fails_its_items_and_the_node(fast_options: RunOptions) -> None:
    with pytest.raises(TaskFailedError) as info:
        run(pt.dying, fast_options, xs=[1, -1, 2])
    assert info.value.node == "map_die_on_negative"
    assert "its worker process died" in str(info.value)
    assert info.value.error_type == "WorkerProcessDied"


def test_the_asl_compiler_ignores_the_option() -> None:
    spec = lower(pt.pids)
    with_processes = asl.compile_workflow(spec).definition
    on_threads = asl.compile_workflow(in_mode(spec, "threads")).definition

    def without_spec_key(definition: dict[str, Any]) -> str:
        # The spec's S3 key is a hash of the IR (which holds the option); nothing else may differ.
        return re.sub(r"specs/pids/[0-9a-f]{16}\.json", "SPEC", json.dumps(definition, sort_keys=True))

    assert with_processes != on_threads
    assert without_spec_key(with_processes) == without_spec_key(on_threads)


# --- progress ------------------------------------------------------------------------------------


def test_progress_bar_shows_the_map_item_count(map_mode: str) -> None:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    options = RunOptions(retry_base_seconds=0.01, progress=True, progress_console=console)
    result = run_in(map_mode, pt.ten_ticks, options, xs=list(range(10)))
    assert result.outputs == {"o0": list(range(10))}
    rendered = buffer.getvalue()
    assert "map_tick" in rendered
    assert "10/10" in rendered
