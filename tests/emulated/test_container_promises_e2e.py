"""Promises inside dicts and nested lists resolve alike in a Lambda, a Fargate and a Batch container."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow import routing
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import container_promise_flows as flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def test_the_three_tasks_route_to_lambda_fargate_and_batch() -> None:
    specs = [flows.on_lambda.spec, flows.on_fargate.spec, flows.on_batch.spec]
    assert [routing.route(s.requests).target for s in specs] == ["lambda", "fargate", "batch"]


def test_promises_in_containers_resolve_alike_on_every_target(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flows.everywhere)
    local = run_local(spec, {"n": 2, "m": 3}, RunOptions(home=tmp_path, progress=False)).outputs
    emulated = sandbox.run(spec, {"n": 2, "m": 3}).outputs()
    expected = "[('a', [6, 9, 7]), ('b', [])] [['w0', 'w1'], ['fixed', 'tag'], []] " + (
        "[('empty', []), ('outer', [('a', 6), ('seven', 7)])]"
    )
    assert local == emulated == {"o0": {"lambda": expected, "fargate": expected, "batch": expected}}
