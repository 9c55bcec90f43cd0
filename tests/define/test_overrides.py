"""with_overrides: the overridden call gets its own task spec; the other calls keep the declared one."""

from __future__ import annotations

from datetime import timedelta

from stratoflow import Resources, conditional, map_task, task, workflow
from stratoflow.lower import lower


@task(retries=1)
def work(x: int) -> int:
    return x


@task
def log(x: int) -> None:
    return None


def test_a_map_call_and_a_call_in_a_case_can_be_overridden() -> None:
    @workflow
    def wf(xs: list[int], x: int) -> list[int]:
        plain = work(x=x)
        log(x=plain).with_overrides(retries=4)
        picked = (
            conditional("c")
            .if_(x > 0)
            .then(work(x=x).with_overrides(timeout=timedelta(minutes=2)))
            .else_()
            .then(work(x=plain))
        )
        log(x=picked)
        return map_task(work)(x=xs).with_overrides(requests=Resources(mem="2Gi"), retries=3)

    spec = lower(wf)
    by_id = {n.id: n for n in spec.all_nodes()}
    tasks = {node_id: spec.tasks[n.task] for node_id, n in by_id.items() if hasattr(n, "task")}
    assert tasks["work"].retries == 1 and tasks["work"].timeout_seconds is None
    assert tasks["log"].retries == 4 and tasks["log_2"].retries == 0  # only the overridden call
    assert tasks["work_2"].timeout_seconds == 120 and tasks["work_2"].retries == 1
    assert tasks["work_3"] == tasks["work"]  # not overridden: the declared spec, one key
    mapped = tasks["map_work"]
    assert (mapped.requests.memory_mib, mapped.retries) == (2048, 3)
    assert by_id["map_work"].kind == "map"
    assert len({spec.tasks[n.task].name for n in by_id.values() if hasattr(n, "task")}) == 2  # work, log
