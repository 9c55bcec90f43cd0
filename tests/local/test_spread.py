"""Running a scope's nodes (``_spread.run_in_order``): dependency order, threads only for stalls, failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from stratoflow.backends.local import _spread
from stratoflow.backends.local._spread import run_in_order


def _diamond() -> dict[str, list[str]]:
    return {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def test_each_node_runs_once_after_its_upstream_nodes() -> None:
    ran: list[str] = []
    done: list[str] = []
    started, failure = run_in_order(_diamond(), ran.append, workers=4, on_done=done.append)
    assert failure is None
    assert started == {"a", "b", "c", "d"}
    assert sorted(ran) == ["a", "b", "c", "d"] and len(ran) == 4
    assert ran[0] == "a" and ran[-1] == "d"
    assert done == ran  # on_done once per node, as each succeeds


def test_quick_nodes_never_leave_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # No stall (here: none shorter than a minute counts), no helper thread: a thousand one-line
    # nodes run one after another where the run was called.
    monkeypatch.setattr(_spread, "STALL_SECONDS", 60.0)
    threads: set[int] = set()
    upstream: dict[str, list[str]] = {f"n{i}": [] for i in range(1000)}
    started, failure = run_in_order(upstream, lambda node: threads.add(threading.get_ident()), workers=6)
    assert failure is None and len(started) == 1000
    assert threads == {threading.get_ident()}


def test_a_stalled_node_gets_its_siblings_threads() -> None:
    # Both nodes block on a Barrier(2): the run only ends if the second starts while the first waits.
    barrier = threading.Barrier(2, timeout=10)
    started, failure = run_in_order({"left": [], "right": []}, lambda node: barrier.wait(), workers=2)
    assert failure is None and started == {"left", "right"}
    assert not barrier.broken


def test_one_worker_runs_nodes_one_at_a_time() -> None:
    # The control for the test above: with one worker the siblings cannot meet.
    barrier = threading.Barrier(2, timeout=0.2)
    _, failure = run_in_order({"left": [], "right": []}, lambda node: barrier.wait(), workers=1)
    assert isinstance(failure, threading.BrokenBarrierError)


def _fail_on(bad: str, ran: list[str]) -> Callable[[str], None]:
    def execute(node: str) -> None:
        ran.append(node)
        if node == bad:
            raise ValueError(f"{node} failed")

    return execute


def test_a_failure_readies_nothing_more_but_ready_siblings_still_run() -> None:
    ran: list[str] = []
    upstream = {"a": [], "sibling": [], "after_a": ["a"], "after_sibling": ["sibling"]}
    started, failure = run_in_order(upstream, _fail_on("a", ran), workers=1)
    assert isinstance(failure, ValueError) and str(failure) == "a failed"
    assert ran == ["a", "sibling"]  # ready when `a` failed: it runs, as with every ready node started
    assert started == {"a", "sibling"}


def test_keep_going_runs_every_node_not_downstream_of_the_failure() -> None:
    ran: list[str] = []
    upstream = {"a": [], "sibling": [], "after_a": ["a"], "after_sibling": ["sibling"]}
    started, failure = run_in_order(upstream, _fail_on("a", ran), workers=1, keep_going=True)
    assert isinstance(failure, ValueError)
    assert sorted(ran) == ["a", "after_sibling", "sibling"]
    assert "after_a" not in started


def test_the_first_failure_is_reported_once_running_nodes_finish() -> None:
    finished: list[str] = []
    barrier = threading.Barrier(2, timeout=10)

    def execute(node: str) -> None:
        barrier.wait()  # both run at once
        if node == "fails":
            raise RuntimeError("boom")
        time.sleep(0.05)
        finished.append(node)

    _, failure = run_in_order({"fails": [], "slow": []}, execute, workers=2)
    assert isinstance(failure, RuntimeError)
    assert finished == ["slow"]  # the run waited for it
