"""``@dynamic`` on emulated AWS: plan in the runner Lambda, the sub-graph in the generic
interpreter state machine (``startExecution.sync:2``), finish; same outputs as a local run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends import asl
from stratoflow.backends.asl import _checks
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import INTERPRETER_MACHINE, Sandbox
from tests.local import _dynamic_flows as df
from tests.local import _dynamic_spot_gpu_flows as sgf

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def both(sandbox: Sandbox, tmp_path: Path, wf: Any, **inputs: Any) -> tuple[Any, Any]:
    spec = lower(wf)
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    return local, sandbox.run(spec, inputs).outputs()


def test_the_loop_matches_the_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.squares, xs=[1, 2, 3, 4])
    assert emulated == local == {"o0": 30}
    machines = sandbox.aws.client("stepfunctions").list_state_machines()["stateMachines"]
    assert INTERPRETER_MACHINE in {m["name"] for m in machines}
    # Under the workflow whose run planned it: dynamic-specs/<workflow>/<name>/<hash>.json.
    prefix = protocol.dynamic_specs_prefix("squares")
    stored = sandbox.aws.client("s3").list_objects_v2(Bucket=sandbox.bucket, Prefix=prefix)
    assert [o["Key"].removeprefix(prefix).split("/")[0] for o in stored.get("Contents", [])] == [
        "sum_of_squares"
    ]


def test_the_if_matches_the_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    for x, expected in ((12, "big:144"), (3, "small:4")):
        local, emulated = both(sandbox, tmp_path, df.classified, x=x)
        assert emulated == local == {"o0": expected}
    local, emulated = both(sandbox, tmp_path, df.doubled_then_classified, x=6)
    assert emulated == local == {"o0": "big:144"}


def test_an_empty_graph_and_constant_outputs(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.squares, xs=[])
    assert emulated == local == {"o0": 0}
    local, emulated = both(sandbox, tmp_path, df.paired, x=5)
    assert emulated == local == {"o0": 25, "o1": "constant"}


def test_map_task_inside_a_dynamic_graph(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.mapped, n=4)
    assert emulated == local == {"o0": [0, 1, 4, 9]}


def test_a_map_inside_a_dynamic_graph_is_a_distributed_map(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.mapped_in_batches, n=50)
    assert emulated == local == {"o0": [i * i for i in range(50)]}
    sfn = sandbox.aws.client("stepfunctions")
    machines = sfn.list_state_machines()["stateMachines"]
    interpreter = next(m["stateMachineArn"] for m in machines if m["name"] == INTERPRETER_MACHINE)
    # The map runner of this graph's map node (the module's sandbox holds other runs' too).
    inputs = {
        e["executionArn"]: json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in sfn.list_executions(stateMachineArn=interpreter)["executions"]
    }
    runners = {arn: i for arn, i in inputs.items() if "map" in i and i["node"].startswith("mapped_batches__")}
    assert len(runners) == 1
    (arn, runner), *_ = runners.items()
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    types = [event["type"] for event in history]
    assert types.count("MapRunStarted") == 1 and "MapRunSucceeded" in types
    # 50 items in batches of 10: five map_items calls, each storing its batch under its first
    # index (one call over every item, as dag_run did, would store one file: 0).
    prefix = protocol.map_results_prefix(runner["workflow"], runner["run"], runner["node"])
    stored = sandbox.aws.client("s3").list_objects_v2(Bucket=sandbox.bucket, Prefix=prefix)["Contents"]
    firsts = sorted(int(o["Key"].removeprefix(prefix).removesuffix(".json")) for o in stored)
    assert firsts == [0, 10, 20, 30, 40]


def test_the_dynamic_node_is_cached(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    spec = lower(df.cached_flow)
    inputs = {"xs": [1, 2, 3], "marker": str(marker)}
    assert sandbox.run(spec, inputs).outputs() == {"o0": 14}
    body = tmp_path / "marker.body"
    assert len(body.read_text().split()) == 1 and len(marker.read_text().split()) == 3
    assert sandbox.run(spec, inputs).outputs() == {"o0": 14}
    assert len(body.read_text().split()) == 1 and len(marker.read_text().split()) == 3


def test_a_failure_in_the_sub_graph_names_the_sub_node(sandbox: Sandbox) -> None:
    with pytest.raises(TaskFailedError) as info:
        sandbox.run(lower(df.broken_inside), {"x": 2})
    assert info.value.error_type == "RuntimeError"
    assert info.value.node == "failing_inside__fails"


def test_a_failure_in_the_body_names_the_dynamic_node(sandbox: Sandbox) -> None:
    with pytest.raises(TaskFailedError) as info:
        sandbox.run(lower(df.broken), {"x": 2})
    assert info.value.error_type == "ValueError"
    assert info.value.node == "broken_body"


def test_a_nested_dynamic_matches_the_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.nested, xs=[1, 2])
    assert emulated == local == {"o0": 10}


def test_recursive_fibonacci_of_8_matches_the_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    # The default input: the case that crashed inside moto (install_early_stop_fix).
    local, emulated = both(sandbox, tmp_path, df.fibonacci)
    assert emulated == local == {"o0": 21}
    assert sandbox.aws.runtime_errors() == []
    machines = sandbox.aws.client("stepfunctions").list_state_machines()["stateMachines"]
    interpreter = next(m["stateMachineArn"] for m in machines if m["name"] == INTERPRETER_MACHINE)
    executions = sandbox.aws.client("stepfunctions").list_executions(stateMachineArn=interpreter)[
        "executions"
    ]
    # fib(8) calls fib 67 times, each in its own interpreter execution of the same machine.
    assert sum(e["name"].count("fib") > 0 for e in executions) >= 67
    assert all(len(e["name"]) <= 80 for e in executions)


# The GPU task runs locally on the CPU (warned once per process, so maybe not in this test).
@pytest.mark.filterwarnings("ignore::stratoflow.accelerators.NoGpuWarning")
def test_containers_and_a_map_inside_a_dynamic_graph(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.spot_interruptions["heavy__spot_square"] = 1
    local, emulated = both(sandbox, tmp_path, df.heavy_flow, n=5)
    assert emulated == local == {"o0": 105}
    assert sandbox.spot_interruptions["heavy__spot_square"] == 0  # reclaimed once, then on-demand
    ecs = sandbox.aws.client("ecs")
    arns = ecs.list_tasks(cluster="stratoflow", desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster="stratoflow", tasks=arns)["tasks"]
    big = [
        t
        for t in tasks
        if any(
            e["value"] == "heavy__big_square"
            for c in t["overrides"]["containerOverrides"]
            for e in c.get("environment", [])
        )
    ]
    assert big and big[0]["overrides"]["memory"] == "12288" and big[0]["overrides"]["cpu"] == "2048"
    jobs = sandbox.aws.client("batch").list_jobs(jobQueue=_gpu_queue(sandbox), jobStatus="SUCCEEDED")[
        "jobSummaryList"
    ]
    assert [j["jobName"] for j in jobs] == ["heavy__gpu_square"]


def _batch_tasks(sandbox: Sandbox, node: str) -> list[dict[str, Any]]:
    """The stopped ECS tasks that ran batches of map node ``node`` (its items' env, as a static map's)."""
    ecs = sandbox.aws.client("ecs")
    arns = ecs.list_tasks(cluster="stratoflow", desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster="stratoflow", tasks=arns)["tasks"] if arns else []
    return [
        t
        for t in tasks
        if {"name": protocol.ENV_NODE, "value": node}
        in t["overrides"]["containerOverrides"][0]["environment"]
    ]


def _env(task: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}


def test_a_fargate_map_inside_a_dynamic_graph_runs_its_batches_in_containers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    local, emulated = both(sandbox, tmp_path, df.container_mapped, n=25)
    assert emulated == local == {"o0": [i * i for i in range(25)]}
    tasks = _batch_tasks(sandbox, "container_map__map_big_square")
    # runtime.container_batching: 25 items over 100 containers, but at least 10 per container.
    batches = sorted(json.loads(_env(t)[protocol.ENV_ITEMS]) for t in tasks)
    assert batches == [list(range(0, 10)), list(range(10, 20)), list(range(20, 25))]
    assert {_env(t)[protocol.ENV_MODE] for t in tasks} == {protocol.Mode.MAP_ITEMS.value}
    # Each container of the task's size (the routing rule's pair), from the generic definition.
    assert {(t["overrides"]["cpu"], t["overrides"]["memory"]) for t in tasks} == {("2048", "12288")}


def test_a_dynamic_fargate_maps_batches_get_their_time_limit(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, df.timed_container_mapped, n=5)
    assert emulated == local == {"o0": [0, 1, 4, 9, 16]}
    runner = _map_runner_input(sandbox, "timed_container_map__map_timed_big_square")
    # map_prepare's limit: 2 items x 60 s x 2 attempts + 600 s of start-up, which the timed states read.
    assert runner["timeout"] == 2 * 60 * 2 + 600
    assert len(_batch_tasks(sandbox, "timed_container_map__map_timed_big_square")) == 3


def test_a_reclaimed_spot_batch_of_a_dynamic_map_runs_again_on_demand(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    node = "spot_map__map_spot_square"
    sandbox.spot_interruptions[node] = 1
    local, emulated = both(sandbox, tmp_path, df.spot_mapped, n=5)
    assert emulated == local == {"o0": [0, 1, 4, 9, 16]}
    assert sandbox.spot_interruptions[node] == 0  # one batch reclaimed, then run on on-demand
    runs = sorted(
        (
            json.loads(_env(t)[protocol.ENV_ITEMS]),
            t.get("capacityProviderName") or t["launchType"],
            t["stopCode"],
        )
        for t in _batch_tasks(sandbox, node)
    )
    # Three batches of 2 on Spot; the reclaimed one again on on-demand Fargate.
    assert sorted({tuple(items) for items, _, _ in runs}) == [(0, 1), (2, 3), (4,)]
    reclaimed = [items for items, where, stop in runs if stop == "SpotInterruption"]
    assert len(reclaimed) == 1 and [where for items, where, _ in runs if items == reclaimed[0]] == [
        "FARGATE",
        "FARGATE_SPOT",
    ]
    assert [where for _, where, _ in runs].count("FARGATE_SPOT") == 3


def test_a_dynamic_fargate_maps_failed_items_follow_min_success_ratio(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    local, emulated = both(sandbox, tmp_path, df.lenient_container_mapped, n=6, ratio=0.5)
    assert emulated == local == {"o0": [0, None, 4, None, 16, None]}
    spec = lower(df.lenient_container_mapped)
    options = RunOptions(home=tmp_path, progress=False, retry_base_seconds=0.01)
    with pytest.raises(TaskFailedError) as local_error:
        run_local(spec, {"n": 6, "ratio": 0.75}, options)
    with pytest.raises(TaskFailedError) as remote_error:
        sandbox.run(spec, {"n": 6, "ratio": 0.75})
    said = str(remote_error.value).partition(" FAILED: ")[2]
    assert said.startswith(str(local_error.value))
    # Each odd item's retry ran in its batch's container, as locally: its last attempt is its second.
    assert (
        "'lenient_container_map__map_big_square_of_even[5]' failed (attempt 2): ValueError: odd item 5"
        in said
    )
    assert (remote_error.value.node, remote_error.value.error_type) == (
        local_error.value.node,
        local_error.value.error_type,
    )


def _map_jobs(sandbox: Sandbox, node: str) -> list[tuple[str, str, tuple[int, ...], str]]:
    """The Batch jobs that ran batches of map node ``node``: (queue name, status, the batch's
    items, status reason), sorted."""
    batch = sandbox.aws.client("batch")
    found = []
    for queue in batch.describe_job_queues()["jobQueues"]:
        for status in ("SUCCEEDED", "FAILED"):
            listed = batch.list_jobs(jobQueue=queue["jobQueueArn"], jobStatus=status)["jobSummaryList"]
            jobs = batch.describe_jobs(jobs=[j["jobId"] for j in listed])["jobs"] if listed else []
            for job in jobs:
                env = {e["name"]: e["value"] for e in job["container"].get("environment", [])}
                if env.get(protocol.ENV_NODE) == node:
                    assert env[protocol.ENV_MODE] == protocol.Mode.MAP_ITEMS.value
                    items = tuple(json.loads(env[protocol.ENV_ITEMS]))
                    found.append((queue["jobQueueName"], status, items, job.get("statusReason") or ""))
    return sorted(found)


def _map_runner_input(sandbox: Sandbox, node: str) -> dict[str, Any]:
    """The ``map`` input of the interpreter execution that ran map node ``node``'s batches."""
    sfn = sandbox.aws.client("stepfunctions")
    machines = sfn.list_state_machines()["stateMachines"]
    interpreter = next(m["stateMachineArn"] for m in machines if m["name"] == INTERPRETER_MACHINE)
    inputs = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in sfn.list_executions(stateMachineArn=interpreter)["executions"]
    ]
    (runner,) = [i["map"] for i in inputs if i.get("node") == node and "map" in i]
    return runner  # type: ignore[no-any-return]


@pytest.mark.filterwarnings("ignore::stratoflow.accelerators.NoGpuWarning")
def test_a_gpu_map_inside_a_dynamic_graph_runs_each_batch_as_a_batch_job(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    local, emulated = both(sandbox, tmp_path, df.gpu_mapped, n=25)
    assert emulated == local == {"o0": [i * i for i in range(25)]}
    node = "gpu_map__map_gpu_square"
    # runtime.container_batching, as a Fargate map's: at least 10 items per container.
    assert _map_jobs(sandbox, node) == [
        ("stratoflow-gpu-ondemand", "SUCCEEDED", tuple(range(0, 10)), ""),
        ("stratoflow-gpu-ondemand", "SUCCEEDED", tuple(range(10, 20)), ""),
        ("stratoflow-gpu-ondemand", "SUCCEEDED", tuple(range(20, 25)), ""),
    ]
    runner = _map_runner_input(sandbox, node)
    assert runner["kind"] == protocol.Dispatch.MAP_BATCH.value and runner["job_name"] == node
    assert {"Type": "GPU", "Value": "1"} in runner["resources"]  # each job's ResourceRequirements
    assert runner["queue"] == runner["on_demand_queue"] == _gpu_queue(sandbox)


@pytest.mark.filterwarnings("ignore::stratoflow.accelerators.NoGpuWarning")
def test_a_reclaimed_spot_batch_of_a_dynamic_gpu_map_runs_again_on_the_on_demand_queue(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    node = "spot_gpu_map__map_spot_gpu_square"
    sandbox.spot_interruptions[node] = 1
    local, emulated = both(sandbox, tmp_path, sgf.spot_gpu_mapped, n=5)
    assert emulated == local == {"o0": [0, 1, 4, 9, 16]}
    assert sandbox.spot_interruptions[node] == 0  # one batch reclaimed
    jobs = _map_jobs(sandbox, node)
    spot = [(items, status) for queue, status, items, _ in jobs if queue == "stratoflow-gpu-spot"]
    assert sorted(items for items, _ in spot) == [(0, 1), (2, 3), (4,)]
    ((reclaimed, reason),) = [(items, why) for _, status, items, why in jobs if status == "FAILED"]
    assert reason.startswith("Host EC2 (instance i-") and reason.endswith(") terminated.")
    # The reclaimed batch, once more on on-demand capacity; the others stayed on Spot.
    assert [(q, items) for q, status, items, _ in jobs if q == "stratoflow-gpu-ondemand"] == [
        ("stratoflow-gpu-ondemand", reclaimed)
    ]


def _gpu_queue(sandbox: Sandbox) -> str:
    queues = sandbox.aws.client("batch").describe_job_queues()["jobQueues"]
    return next(q["jobQueueArn"] for q in queues if q["jobQueueName"].endswith("gpu-ondemand"))


def test_the_interpreter_definition_is_sound() -> None:
    assert _checks.check_definition(asl.interpreter_definition()) == []
