"""map_task end to end: the local backend and the compiled Distributed Map on emulated AWS agree.

Every workflow runs locally (``run_local``) and in one module-scoped ``Sandbox`` (moto running
the compiled ASL: prepare, Distributed Map with ItemReader + ItemBatcher, gather, with the
real runner Lambda handler in-process) and the outputs must be identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import ExecutionError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import map_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One emulated stack shared by the tests of this module (deploys are per workflow)."""
    with Sandbox() as stack:
        yield stack


def _options(home: Path) -> RunOptions:
    return RunOptions(home=home, progress=False, retry_base_seconds=0.01)


def _local(spec: ir.WorkflowSpec, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    return run_local(spec, inputs, _options(home)).outputs


def _both(sandbox: Sandbox, spec: ir.WorkflowSpec, inputs: dict[str, Any], home: Path) -> dict[str, Any]:
    local = _local(spec, inputs, home)
    emulated = sandbox.run(spec, inputs).outputs()
    assert emulated == local
    return local


def test_thousand_item_map_matches_local_run(sandbox: Sandbox, tmp_path: Path) -> None:
    xs = list(range(1000))
    outputs = _both(sandbox, lower(map_flows.squares), {"xs": xs}, tmp_path)
    assert outputs == {"o0": [x * x for x in xs]}
    assert sandbox.aws.runtime_errors() == []


def test_partial_bound_to_an_upstream_promise(sandbox: Sandbox, tmp_path: Path) -> None:
    outputs = _both(sandbox, lower(map_flows.scaled), {"xs": [1, 2, 3, 4, 5], "k": 2}, tmp_path)
    assert outputs == {"o0": [3, 6, 9, 12, 15]}


def test_two_zipped_mapped_inputs(sandbox: Sandbox, tmp_path: Path) -> None:
    inputs = {"xs": list(range(10)), "labels": [f"l{i}-" for i in range(10)]}
    outputs = _both(sandbox, lower(map_flows.zipped), inputs, tmp_path)
    assert outputs == {"o0": [f"l{i}-{i}" for i in range(10)]}


def test_map_over_an_empty_list(sandbox: Sandbox, tmp_path: Path) -> None:
    assert _both(sandbox, lower(map_flows.squares), {"xs": []}, tmp_path) == {"o0": []}
    assert _both(sandbox, lower(map_flows.squares_then_total), {"xs": []}, tmp_path) == {"o0": 0}


def test_map_between_ordinary_tasks(sandbox: Sandbox, tmp_path: Path) -> None:
    outputs = _both(sandbox, lower(map_flows.squares_then_total), {"xs": list(range(30))}, tmp_path)
    assert outputs == {"o0": sum(x * x for x in range(30))}


def test_five_percent_failures_within_min_success_ratio_give_nones(sandbox: Sandbox, tmp_path: Path) -> None:
    xs = list(range(100))
    outputs = _both(sandbox, lower(map_flows.tolerant), {"xs": xs, "every": 20}, tmp_path)
    assert outputs == {"o0": [None if x % 20 == 0 else x + 1000 for x in xs]}
    assert [i for i, v in enumerate(outputs["o0"]) if v is None] == [0, 20, 40, 60, 80]


def _assert_too_many_failed(error: BaseException) -> None:
    message = str(error)
    assert "map node 'map_fragile': 20 of 100 items failed" in message
    assert "min_success_ratio=0.9" in message
    assert "first errors: [0] " in message
    assert "item 0 is broken" in message
    assert "[5] " in message


def test_twenty_percent_failures_fail_then_a_fixed_rerun_recomputes_only_those(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = lower(map_flows.tolerant)
    xs = list(range(100))
    inputs = {"xs": xs, "every": 5}

    calls = map_flows.CALLS["fragile"]
    with pytest.raises(TaskFailedError) as local_error:
        run_local(spec, inputs, _options(tmp_path))
    _assert_too_many_failed(local_error.value)
    assert map_flows.CALLS["fragile"] - calls == 100

    calls = map_flows.CALLS["fragile"]
    with pytest.raises(ExecutionError) as emulated_error:  # TaskFailedError is an ExecutionError
        sandbox.run(spec, inputs)
    _assert_too_many_failed(emulated_error.value)
    assert isinstance(emulated_error.value, TaskFailedError)
    assert emulated_error.value.node == "map_fragile"
    assert emulated_error.value.error_type == "FragileItemError"
    assert map_flows.CALLS["fragile"] - calls == 100

    monkeypatch.setattr(map_flows, "FIXED", True)
    expected = {"o0": [x + 1000 for x in xs]}
    calls = map_flows.CALLS["fragile"]
    assert run_local(spec, inputs, _options(tmp_path)).outputs == expected
    assert map_flows.CALLS["fragile"] - calls == 20, "the re-run recomputed items that had succeeded"

    calls = map_flows.CALLS["fragile"]
    assert sandbox.run(spec, inputs).outputs() == expected
    assert map_flows.CALLS["fragile"] - calls == 20, "the re-run recomputed items that had succeeded"


def test_largest_state_payload_does_not_grow_with_the_map(sandbox: Sandbox) -> None:
    spec = lower(map_flows.negations)
    small = sandbox.run(spec, {"xs": list(range(10))})
    large = sandbox.run(spec, {"xs": list(range(5000))})
    assert large.outputs() == {"o0": [-x for x in range(5000)]}
    small_payload = sandbox.aws.wait(small.arn).max_payload_bytes
    large_payload = sandbox.aws.wait(large.arn).max_payload_bytes
    assert abs(large_payload - small_payload) < 1024
    assert large_payload < 8 * 1024


def test_batches_are_what_the_compiled_item_batcher_says(sandbox: Sandbox) -> None:
    """2,501 items in batches of 300 are 9 child executions, each storing one result object."""
    spec = lower(map_flows.negations)
    compiled = sandbox.deploy(spec)
    assert compiled.definition["States"]["map_negate"]["ItemBatcher"]["MaxItemsPerBatch"] == 300
    execution = sandbox.run(spec, {"xs": list(range(2501))})
    assert execution.outputs() == {"o0": [-x for x in range(2501)]}
    listed = sandbox.aws.client("s3").list_objects_v2(
        Bucket=sandbox.bucket, Prefix=protocol.map_results_prefix(spec.name, execution.run_id, "map_negate")
    )
    keys = sorted(int(o["Key"].rsplit("/", 1)[-1].removesuffix(".json")) for o in listed["Contents"])
    assert keys == list(range(0, 2501, 300))


def test_sandbox_fills_the_data_bucket_placeholder(sandbox: Sandbox) -> None:
    compiled = asl.compile_workflow(lower(map_flows.squares))
    assert "DataBucket" in compiled.placeholders
    assert sandbox._substitution("DataBucket") == sandbox.bucket
