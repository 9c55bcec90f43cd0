"""map_task over container tasks end to end: each batch of items runs in one (in-process) container.

The compiled Distributed Map's STANDARD children run ``ecs:runTask.sync`` (Fargate, Fargate
Spot with its on-demand fallback) or ``batch:submitJob.sync`` (a GPU task); the outputs
equal the local run's, and user-function calls are counted per item.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import accelerators, ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import container_map_flows as flows

pytestmark = pytest.mark.emulated

XS = list(range(100))
EXPECTED = [None if x % 20 == 7 else 3 * x for x in XS]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _local(spec: ir.WorkflowSpec, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    with warnings.catch_warnings():  # no GPU here: the local run says so once
        warnings.simplefilter("ignore", accelerators.NoGpuWarning)
        return run_local(spec, inputs, RunOptions(home=home, progress=False, retry_base_seconds=0.01)).outputs


def _ecs_tasks(sandbox: Sandbox, run_id: str) -> list[dict[str, Any]]:
    """The ECS tasks one run started: their environment overrides and capacity."""
    ecs = sandbox.aws.client("ecs")
    cluster = sandbox._substitution(protocol.Placeholder.CLUSTER_ARN)
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    found = []
    for described in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []:
        (override,) = described["overrides"]["containerOverrides"]
        env = {e["name"]: e["value"] for e in override["environment"]}
        if env[protocol.ENV_RUN] == run_id:
            spot = described.get("capacityProviderName") == "FARGATE_SPOT"
            found.append({"items": json.loads(env[protocol.ENV_ITEMS]), "spot": spot})
    return found


def _batch_jobs(sandbox: Sandbox, run_id: str, queue: str) -> list[list[int]]:
    """The item batches of the Batch jobs one run submitted to ``queue``."""
    batch = sandbox.aws.client("batch")
    ids = [j["jobId"] for j in batch.list_jobs(jobQueue=queue, jobStatus="SUCCEEDED")["jobSummaryList"]]
    found = []
    for job in batch.describe_jobs(jobs=ids)["jobs"] if ids else []:
        env = {e["name"]: e["value"] for e in job["container"]["environment"]}
        if env.get(protocol.ENV_RUN) == run_id:
            found.append(json.loads(env[protocol.ENV_ITEMS]))
    return sorted(found)


def test_a_hundred_items_over_fargate_in_batches_of_ten_match_the_local_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(flows.fargate_map)
    local = _local(spec, {"xs": XS}, tmp_path)
    before = flows.CALLS["predict"]
    execution = sandbox.run(spec, {"xs": XS})
    assert execution.outputs() == local == {"o0": EXPECTED}
    assert flows.CALLS["predict"] == before + 100  # each item once: failures are recorded, not retried
    tasks = _ecs_tasks(sandbox, execution.run_id)  # ten containers, one per batch of ten
    assert sorted(t["items"] for t in tasks) == [list(range(i, i + 10)) for i in range(0, 100, 10)]
    assert not any(t["spot"] for t in tasks)


def test_a_batch_reclaimed_mid_way_finishes_on_demand_without_recomputing_its_finished_items(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(flows.fargate_spot_map)
    local = _local(spec, {"xs": XS}, tmp_path)
    calls = {f"predict_spot[{x}]": flows.CALLS[f"predict_spot[{x}]"] for x in XS}
    flows.RECLAIM_AT.add(35)  # batch 30..39: items 30..34 finish, then the container is reclaimed
    execution = sandbox.run(spec, {"xs": XS})
    assert not flows.RECLAIM_AT
    assert execution.outputs() == local == {"o0": EXPECTED}
    again = {x for x in XS if flows.CALLS[f"predict_spot[{x}]"] - calls[f"predict_spot[{x}]"] != 1}
    assert again == {35}  # called twice (reclaimed, then on demand); 30..34 were not called again
    tasks = _ecs_tasks(sandbox, execution.run_id)
    assert sorted(t["items"] for t in tasks if t["spot"]) == [
        list(range(i, i + 10)) for i in range(0, 100, 10)
    ]
    assert [t["items"] for t in tasks if not t["spot"]] == [list(range(30, 40))]


def test_a_map_over_a_gpu_task_runs_batches_as_aws_batch_jobs(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flows.gpu_map)
    xs = list(range(30))
    local = _local(spec, {"xs": xs}, tmp_path)
    execution = sandbox.run(spec, {"xs": xs})
    assert execution.outputs() == local == {"o0": [None if x % 20 == 7 else 3 * x for x in xs]}
    queue = sandbox._substitution(protocol.batch_queue("gpu", spot=False))
    # The default for 30 items: at least 10 per container, so three jobs.
    assert _batch_jobs(sandbox, execution.run_id, queue) == [
        list(range(0, 10)),
        list(range(10, 20)),
        list(range(20, 30)),
    ]


def test_the_golden_spot_map_with_a_timeout_runs_its_batches_under_their_time_limit(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The compiled case's batch states read ``TimeoutSecondsPath`` from the BatchInput (a path
    that resolved to nothing would fail the batch with States.Runtime)."""
    from tests.compile.asl_cases import load_case

    spec = load_case("map_fargate_spot")
    xs = list(range(25))
    local = _local(spec, {"xs": xs}, tmp_path)
    execution = sandbox.run(spec, {"xs": xs})
    assert execution.outputs() == local == {"o0": [x + 1 for x in xs]}
    tasks = _ecs_tasks(sandbox, execution.run_id)
    assert sorted(t["items"] for t in tasks) == [list(range(0, 10)), list(range(10, 20)), list(range(20, 25))]
