"""Maps over container tasks on the local backend, and the container batch-size rule.

The emulated twin (tests/emulated/test_container_map_e2e.py) runs the same workflows on
emulated AWS and compares outputs with these local runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime._map import container_batching, runs_in_container
from tests.emulated import container_map_flows as flows


def _spec(
    *,
    concurrency: int | None = None,
    timeout: int | None = None,
    retries: int = 0,
    batch_size: int | None = None,
) -> tuple[ir.MapNode, ir.TaskSpec]:
    spec = lower(flows.fargate_map)
    (node,) = spec.nodes
    assert isinstance(node, ir.MapNode)
    task = spec.tasks[node.task].model_copy(update={"timeout_seconds": timeout, "retries": retries})
    return node.model_copy(update={"concurrency": concurrency, "batch_size": batch_size}), task


@pytest.mark.parametrize(
    ("count", "options", "expected"),
    [
        (100, {}, (10, 0)),  # at least 10 per container: start-up amortised
        (5, {}, (5, 0)),  # never more than the items
        (0, {}, (1, 0)),
        (5_000, {}, (50, 0)),  # one wave over the default 100 containers
        (1_000_000, {}, (protocol.MAX_CONTAINER_BATCH, 0)),  # the overrides limit
        (100, {"concurrency": 4}, (25, 0)),  # one wave over 4 containers
        # 8 h / (1 h x 2 attempts) = 4 items; the limit is 4 x 2 h + 10 min of start-up.
        (10_000, {"concurrency": 10, "timeout": 3600, "retries": 1}, (4, 4 * 7200 + 600)),
        (100, {"timeout": 60}, (10, 10 * 60 + 600)),
        (100, {"batch_size": 7, "timeout": 60}, (7, 7 * 60 + 600)),  # batch_size overrides the rule
        (3, {"batch_size": 7}, (7, 0)),
    ],
)
def test_container_batch_size_rule(count: int, options: dict[str, int], expected: tuple[int, int]) -> None:
    node, task = _spec(**options)
    assert container_batching(count, node, task) == expected


def test_only_container_routed_tasks_checkpoint_their_batches() -> None:
    spec = lower(flows.fargate_map)
    assert runs_in_container(spec.tasks[spec.nodes[0].task])
    lambda_task = spec.tasks[spec.nodes[0].task].model_copy(update={"requests": ir.ResourcesSpec()})
    assert not runs_in_container(lambda_task)


def test_a_hundred_item_fargate_map_runs_locally_with_five_percent_failures(tmp_path: Path) -> None:
    before = flows.CALLS["predict"]
    outputs = run_local(
        lower(flows.fargate_map), {"xs": list(range(100))}, RunOptions(home=tmp_path, progress=False)
    ).outputs
    assert outputs == {"o0": [None if x % 20 == 7 else 3 * x for x in range(100)]}
    assert flows.CALLS["predict"] == before + 100
