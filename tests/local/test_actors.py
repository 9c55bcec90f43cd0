"""Actor environments on the local backend: a run's worker processes, started lazily, reused by every
task and map item of the environment, stopped when idle for ``ttl_seconds`` or when the run ends;
a worker killed mid-task costs a restart, not the run; outputs, retries, timeouts and errors are a
plain task's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from stratoflow import File, TaskFailedError, ir, runtime, workflow
from stratoflow import values as values_codec
from stratoflow.backends.local import LocalRun, RunOptions, run_local
from stratoflow.backends.local._actor_pool import Environment
from stratoflow.backends.local._actors import MAX_WORKER_RUNS
from stratoflow.cache import SqliteCacheStore
from stratoflow.errors import ExecutionError, TaskTimeoutError
from stratoflow.lower import lower
from stratoflow.values import LiteralRef, LocalBlobStore
from tests.local import _actor_flows as af
from tests.local._tasks import count


def run(wf: Any, options: RunOptions, **inputs: Any) -> LocalRun:
    return run_local(lower(wf), inputs, options)


def loads(log: Path) -> list[int]:
    """The pids that ran the ``@actor_cache`` loader, one line per load."""
    return [int(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_two_hundred_tasks_run_on_at_most_two_workers_each_loading_once(
    tmp_path: Path, fast_options: RunOptions
) -> None:
    log = tmp_path / "loads"
    result = run(af.two_hundred, fast_options, xs=list(range(150)), log=str(log))
    stats = result.actors["fleet"]
    assert 1 <= stats.starts <= 2  # replica_count=2, for 150 map items and 50 single tasks
    assert len(stats.pids) == stats.starts
    assert stats.lost == 0
    loaded = loads(log)
    assert loaded, "the actor_cache loader never ran"
    assert len(loaded) == len(set(loaded))  # at most once per worker
    assert set(loaded) <= set(stats.pids)  # in the workers, not in this process
    assert os.getpid() not in loaded
    assert all(_gone(pid) for pid in stats.pids)  # the run stopped its workers when it ended


def test_outputs_equal_the_same_workflow_with_plain_tasks(tmp_path: Path, fast_options: RunOptions) -> None:
    xs = list(range(150))
    actor = run(af.two_hundred, fast_options, xs=xs, log=str(tmp_path / "a"))
    plain = run(af.two_hundred_plain, fast_options, xs=xs, log=str(tmp_path / "p"))
    assert actor.outputs == plain.outputs
    assert actor.outputs["o0"][:3] == [1, 8, 15]
    assert plain.actors == {}  # plain tasks start no worker


def test_a_dynamic_sub_graph_shares_the_runs_workers(tmp_path: Path, fast_options: RunOptions) -> None:
    log = tmp_path / "loads"
    result = run(af.outer_and_dynamic, fast_options, n=6, log=str(log))
    assert result.outputs == {"o0": 701, "o1": [1, 8, 15, 22, 29, 36]}
    stats = result.actors["fleet"]
    assert 1 <= stats.starts <= 2
    assert len(loads(log)) == len(set(loads(log))) <= stats.starts


def test_an_idle_worker_exits_after_ttl_seconds(fast_options: RunOptions) -> None:
    result = run(af.idle_then_again, fast_options, limit=5.0)
    first, gone_after, second = result.outputs["o0"], result.outputs["o1"], result.outputs["o2"]
    assert gone_after != -2.0, "the worker was gone before it had been idle"
    assert gone_after != -1.0, "the idle worker outlived ttl_seconds=1 by 4 s"
    assert 0.2 < gone_after < 4.0  # ttl_seconds=1, counted from when its task ended (loose: a busy machine)
    assert second != first  # the next task started a new worker
    stats = result.actors["brief"]
    assert (stats.starts, stats.expired, stats.lost) == (2, 1, 0)
    assert stats.pids == [first, second]


def test_a_worker_killed_mid_task_is_replaced_and_the_task_rerun(
    tmp_path: Path, fast_options: RunOptions
) -> None:
    marker = tmp_path / "died"
    result = run(af.killed_once, fast_options, x=4, marker=str(marker))
    assert result.outputs == {"o0": 40}
    stats = result.actors["fragile"]
    assert (stats.starts, stats.lost) == (2, 1)  # the task has retries=0: the loss did not use one
    assert int(marker.read_text(encoding="utf-8")) == stats.pids[0]


def test_a_worker_killed_by_a_map_item_is_replaced(tmp_path: Path, fast_options: RunOptions) -> None:
    marker = tmp_path / "died"
    result = run(af.killed_once_in_a_map, fast_options, xs=list(range(8)), marker=str(marker))
    assert result.outputs == {"o0": [x * 10 for x in range(8)]}
    stats = result.actors["fragile"]
    assert (stats.starts, stats.lost) == (2, 1)
    assert int(marker.read_text(encoding="utf-8")) == stats.pids[0]


def test_a_task_that_always_kills_its_worker_fails_after_a_bounded_number(fast_options: RunOptions) -> None:
    with pytest.raises(TaskFailedError) as info:
        run(af.killed_always, fast_options, x=1)
    assert info.value.error_type == "WorkerProcessDied"
    assert str(info.value) == (
        f"node 'die_always': {MAX_WORKER_RUNS} actor workers of environment 'fragile' died "
        "running it (last: killed by SIGKILL) (attempt 1)"
    )


def test_failures_and_retries_read_as_a_plain_tasks(tmp_path: Path, fast_options: RunOptions) -> None:
    errors = {}
    for wf, name in ((af.fails, "actor"), (af.fails_plain, "plain")):
        counter = tmp_path / name
        with pytest.raises(TaskFailedError) as info:
            run(wf, fast_options, counter=str(counter))
        assert count(counter) == 3  # retries=2
        errors[name] = info.value
    actor, plain = errors["actor"], errors["plain"]
    assert str(actor).replace("failing", "failing_plain") == str(plain)
    assert str(actor) == "task in node 'failing' failed (attempt 3): RuntimeError: bad call 3"
    assert (actor.attempt, actor.error_type) == (plain.attempt, plain.error_type) == (3, "RuntimeError")
    assert actor.traceback_text is not None
    assert 'raise RuntimeError(f"bad call {calls}")' in actor.traceback_text


def test_a_timeout_reads_as_a_plain_tasks(fast_options: RunOptions) -> None:
    with pytest.raises(TaskTimeoutError) as actor:
        run(af.sleeps, fast_options, seconds=30.0)
    with pytest.raises(TaskTimeoutError) as plain:
        run(af.sleeps_plain, fast_options, seconds=1.5)
    assert str(actor.value) == "node 'sleepy' timed out after 1s (attempt 1)"
    assert str(actor.value).replace("sleepy", "sleepy_plain") == str(plain.value)
    assert actor.value.error_type == plain.value.error_type == "States.Timeout"


def test_cache_hits_wake_no_worker(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    first = run(af.squares_cached, fast_options, xs=[1, 2, 3], counter=str(counter))
    assert first.outputs == {"o0": 1, "o1": [1, 4, 9]}
    assert first.actors["fleet"].starts >= 1
    again = run(af.squares_cached, fast_options, xs=[1, 2, 3], counter=str(counter))
    assert again.outputs == first.outputs
    assert count(counter) == 4  # each input computed once, in the first run
    assert again.actors == {}  # every node and item a hit: no environment was even touched
    assert "cached_square" in again.cache_hits


def test_workers_see_the_runs_environment_variables(stratoflow_home: Path, fast_options: RunOptions) -> None:
    # Workers come from a forkserver that may have started in an earlier test, with another home.
    result = run(af.homes, fast_options, xs=[1, 2, 3])
    assert result.outputs == {"o0": str(stratoflow_home), "o1": [str(stratoflow_home)] * 3}


def test_an_actor_task_a_worker_cannot_import_is_a_clear_error(fast_options: RunOptions) -> None:
    @af.fleet.task
    def hidden(x: int) -> int:  # a local function: no ref a worker process can import
        return x

    @workflow
    def uses_hidden(x: int) -> int:
        return hidden(x=x)

    with pytest.raises(ExecutionError) as info:
        run(uses_hidden, fast_options, x=1)
    assert str(info.value).startswith(
        "node 'hidden': its actor worker could not run it: task 'hidden' "
        "(tests.local.test_actors:test_an_actor_task_a_worker_cannot_import_is_a_clear_error.<locals>.hidden) "
        "cannot be imported in an actor worker process (AttributeError: "
    )
    assert str(info.value).endswith("; define actor tasks in a module or a script file")


def test_files_cross_from_workers_as_blob_references(fast_options: RunOptions) -> None:
    result = run(af.notes, fast_options, texts=["a", "b", "c"])
    assert result.outputs["o0"] == "a|b|c"
    single = result.outputs["o1"]
    assert isinstance(single, File)
    assert Path(single.path).read_text(encoding="utf-8") == "single"


# --- the one-attempt hook a worker runs (stratoflow.runtime), in this process ------------------


def _hook(tmp_path: Path, task: Any, **values: Any) -> tuple[Any, dict[str, LiteralRef], Any]:
    blobs = LocalBlobStore(tmp_path)
    spec = task.spec
    ctx = runtime.task_context(spec, blobs, SqliteCacheStore(tmp_path / "cache.sqlite"))
    types = {v.name: v.type for v in spec.inputs}
    inputs = {name: values_codec.encode(value, types[name], blobs) for name, value in values.items()}
    return ctx, inputs, spec


def test_the_attempt_hook_returns_json_and_its_outputs_decode(tmp_path: Path) -> None:
    ctx, inputs, spec = _hook(tmp_path, af.cached_square, x=7, counter=str(tmp_path / "n"))
    reply = runtime.run_attempt(ctx, spec, inputs, label="n0", attempt=1)
    assert json.loads(json.dumps(reply)) == reply  # plain JSON: it crosses a pipe or a queue
    outputs, hit = runtime.attempt_outputs(reply, label="n0")
    assert (values_codec.decode(outputs["o0"], spec.outputs[0].type, ctx.blobs), hit) == (49, False)
    again = runtime.run_attempt(ctx, spec, inputs, label="n0", attempt=1)
    assert runtime.attempt_outputs(again, label="n0")[1] is True  # the worker wrote the cache
    assert count(tmp_path / "n") == 1


def test_the_attempt_hook_raises_what_the_runner_raises(tmp_path: Path) -> None:
    ctx, inputs, spec = _hook(tmp_path, af.failing, counter=str(tmp_path / "n"))
    reply = runtime.run_attempt(ctx, spec, inputs, label="n0", attempt=2)
    with pytest.raises(TaskFailedError) as info:
        runtime.attempt_outputs(reply, label="n0")
    assert str(info.value) == "task in node 'n0' failed (attempt 2): RuntimeError: bad call 1"
    assert (info.value.node, info.value.attempt, info.value.error_type) == ("n0", 2, "RuntimeError")
    with pytest.raises(ExecutionError, match=r"^node 'n0': its actor worker could not run it: OSError: disk"):
        runtime.attempt_outputs(
            runtime.AttemptReply(failed="runner", error="OSError: disk", error_type="OSError"), label="n0"
        )


class _FakeWorker:
    """Stands in for a worker process in the pool's bookkeeping tests (nothing is started)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.stopped = False
        self.idle_since = 0.0

    def alive(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True


def test_a_closed_environment_starts_no_worker_and_stops_returned_ones() -> None:
    pids = iter(range(1, 10))
    env = Environment(ir.ActorRef(name="e", replica_count=2), lambda: _FakeWorker(next(pids)), lambda: None)
    first, second = env.acquire(), env.acquire()
    assert (first.pid, second.pid) == (1, 2)
    env.release(first)
    assert env.acquire() is first  # an idle worker is reused before any start
    idle, busy = env.close()
    assert (idle, sorted(w.pid for w in busy)) == ([], [1, 2])
    env.release(second)  # a worker handed back after its run ended is stopped, not kept
    assert second.stopped
    with pytest.raises(ExecutionError, match=r"^actor environment 'e': its run has ended; no worker starts$"):
        env.acquire()
    assert env.stats.starts == 2


def test_cache_serialize_computes_a_key_once_across_workers(tmp_path: Path, fast_options: RunOptions) -> None:
    counter = tmp_path / "calls"
    result = run(af.same_key_twice, fast_options, x=5, counter=str(counter))
    assert result.outputs == {"o0": 15, "o1": 15}
    assert count(counter) == 1  # the other node waited for the key, then hit the cache
    assert len(result.cache_hits) == 1
