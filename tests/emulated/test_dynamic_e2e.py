"""``@dynamic`` on emulated AWS: plan in the runner Lambda, the sub-graph in the generic
interpreter state machine (``startExecution.sync:2``), finish; same outputs as a local run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends import asl
from stratoflow.backends.asl import _checks
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
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
    stored = sandbox.aws.client("s3").list_objects_v2(Bucket=sandbox.bucket, Prefix="dynamic-specs/")
    assert [o["Key"].split("/")[1] for o in stored.get("Contents", [])] == ["sum_of_squares"]


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


def test_a_nested_dynamic_fails_with_a_clear_error(sandbox: Sandbox) -> None:
    with pytest.raises(TaskFailedError) as info:
        sandbox.run(lower(df.nested), {"xs": [1]})
    assert info.value.error_type == "UnsupportedDynamicGraph"
    assert "nested @dynamic" in str(info.value)


def test_the_interpreter_definition_is_sound() -> None:
    assert _checks.check_definition(asl.interpreter_definition()) == []
