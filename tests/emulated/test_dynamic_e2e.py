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


def _gpu_queue(sandbox: Sandbox) -> str:
    queues = sandbox.aws.client("batch").describe_job_queues()["jobQueues"]
    return next(q["jobQueueArn"] for q in queues if q["jobQueueName"].endswith("gpu-ondemand"))


def test_the_interpreter_definition_is_sound() -> None:
    assert _checks.check_definition(asl.interpreter_definition()) == []
