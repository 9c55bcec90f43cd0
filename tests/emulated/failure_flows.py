"""Workflows for Flyte's failure handling (``on_failure``, ``failure_policy``), run locally and on
emulated AWS by tests/emulated/test_failure_e2e.py. Tasks record what ran, in this process."""

from __future__ import annotations

import threading
import time
from typing import Optional

from stratoflow import FlyteError, WorkflowFailurePolicy, task, workflow

EVENTS: list[tuple[str, str]] = []
_LOCK = threading.Lock()


def _event(name: str, detail: str) -> None:
    with _LOCK:
        EVENTS.append((name, detail))


@task
def create_cluster(name: str) -> None:
    _event("create_cluster", name)


@task
def boom(a: int) -> int:
    raise ValueError(f"Fail! a={a}")


@task
def clean_up(name: str) -> None:
    _event("clean_up", name)


@task
def slow_sibling(n: int) -> int:
    time.sleep(1.0)  # still running when boom fails
    _event("slow_sibling", str(n))
    return n


@task
def after_sibling(n: int) -> int:
    _event("after_sibling", str(n))
    return n + 1


@task
def report(name: str, err: Optional[FlyteError] = None) -> None:  # noqa: UP045 - Flyte users spell it so
    _event("report", f"{name} {err.failed_node_id if err else '-'}: {err.message if err else '-'}")


@workflow(on_failure=report)
def reports(name: str, a: int) -> int:
    return boom(a=a)


@workflow(on_failure=clean_up)
def with_cleanup(name: str, a: int) -> int:
    made = create_cluster(name=name)
    result = boom(a=a)
    made >> result
    return result


@workflow(on_failure=clean_up)
def cleanup_not_needed(name: str) -> None:
    create_cluster(name=name)


@workflow
def fails_immediately(a: int, n: int) -> int:
    boom(a=a)
    return after_sibling(n=slow_sibling(n=n))


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, on_failure=clean_up)
def runs_to_completion(a: int, n: int, name: str) -> int:
    boom(a=a)
    return after_sibling(n=slow_sibling(n=n))


@workflow
def report_wf(cluster: str, err: Optional[FlyteError] = None) -> None:  # noqa: UP045 - as Flyte users spell it
    report(name=cluster, err=err)


@workflow(on_failure=report_wf)
def reports_through_a_workflow(cluster: str, a: int) -> int:
    # Flyte's failure node may be a workflow: here one calling a task with its inputs renamed.
    return boom(a=a)
