"""examples/digits.py compiled and run on the emulated AWS: the same accuracy, model and report as locally,
with `train` launched on Fargate Spot and the actor-task inference as a Distributed Map."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox

pytestmark = pytest.mark.emulated

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits.py"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def test_digits_on_emulated_aws_matches_its_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(load_workflow(str(DIGITS), "digits"))
    inputs = {"chunks": 3}
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    execution = sandbox.run(spec, inputs)
    emulated = execution.outputs()
    assert emulated["accuracy"] == local["accuracy"] > 0.93
    for name in ("model", "report"):  # byte-identical files: same weights, same report
        assert emulated[name].content_hash() == local[name].content_hash(), name

    events = sandbox.aws.wait(execution.arn, timeout=60).events
    launches = [
        json.loads(e["taskScheduledEventDetails"]["parameters"]).get("CapacityProviderStrategy")
        for e in events
        if e["type"] == "TaskScheduled" and "runTask" in e["taskScheduledEventDetails"]["resource"]
    ]
    assert launches == [[{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]]  # train, once, on Spot
    maps = [e for e in events if e["type"] == "MapRunStarted"]
    assert len(maps) == 1  # predict: one Distributed Map over the 3 chunks
