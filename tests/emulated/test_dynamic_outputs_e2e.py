"""Containers of promises returned by a @dynamic or a @workflow: same outputs on emulated AWS as locally."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.local import _dynamic_outputs as flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def both(sandbox: Sandbox, tmp_path: Path, wf: Any, **inputs: Any) -> tuple[Any, Any]:
    spec = lower(wf)
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    return local, sandbox.run(spec, inputs).outputs()


def test_a_dynamic_returning_a_list_of_promises(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, flows.fan, n=25)
    assert emulated == local == {"o0": list(range(1, 26))}


def test_a_dynamic_returning_1000_promises(sandbox: Sandbox, tmp_path: Path) -> None:
    started = time.perf_counter()
    local, emulated = both(sandbox, tmp_path, flows.fan, n=1000)
    assert emulated == local == {"o0": list(range(1, 1001))}
    print(f"1,000 promises, local + emulated: {time.perf_counter() - started:.1f}s")


def test_workflows_returning_a_list_and_a_dict(sandbox: Sandbox, tmp_path: Path) -> None:
    local, emulated = both(sandbox, tmp_path, flows.listed, a=1, b=2)
    assert emulated == local == {"o0": [2, 3, 7]}
    local, emulated = both(sandbox, tmp_path, flows.keyed, a=1)
    assert emulated == local == {"o0": {"one": 2, "two": 3}}


def test_dynamics_returning_a_dict_a_namedtuple_and_nested_containers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    @flows.workflow
    def labels(n: int) -> dict[str, str]:
        return flows.labelled(n=n)

    @flows.workflow
    def stats(n: int) -> flows.Stats:
        return flows.bounds(n=n)

    @flows.workflow
    def split(n: int) -> dict[str, list[int]]:
        return flows.nested(n=n)

    local, emulated = both(sandbox, tmp_path, labels, n=3)
    assert emulated == local == {"o0": {"k0": "#0", "k1": "#1", "k2": "#2"}}
    local, emulated = both(sandbox, tmp_path, stats, n=5)
    assert emulated == local == {"low": 1, "high": 6}
    local, emulated = both(sandbox, tmp_path, split, n=5)
    assert emulated == local == {"o0": {"even": [1, 3, 5], "odd": [2, 4]}}
