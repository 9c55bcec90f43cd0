"""On emulated AWS a workflow's runs and cache items are its own (issue 9 item 4): the layout the
IAM grants bound (``tests/infra/test_least_privilege.py``) is the one the runner writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.errors import IntegrityError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.local import _cache_tasks as ct
from tests.local._tasks import count


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _keys(sandbox: Sandbox, prefix: str) -> list[str]:
    listed = sandbox.aws.client("s3").list_objects_v2(Bucket=sandbox.bucket, Prefix=prefix)
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_runs_and_cache_items_are_kept_per_workflow(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    inputs = {"x": 3, "marker": str(marker)}
    first = sandbox.run(lower(ct.doubled), inputs)
    elsewhere = sandbox.run(lower(ct.doubled_elsewhere), inputs)
    assert first.outputs() == elsewhere.outputs() == {"o0": 7}
    assert count(marker) == 4  # the same tasks and inputs, in another workflow: computed again
    again = sandbox.run(lower(ct.doubled), inputs)
    assert again.outputs() == {"o0": 7} and count(marker) == 4  # its own entries: hits
    for execution in (first, elsewhere):
        workflow = execution.spec.name
        assert protocol.inputs_key(workflow, execution.run_id) in _keys(
            sandbox, protocol.run_prefix(workflow, execution.run_id)
        )
    assert {key.split("/")[1] for key in _keys(sandbox, protocol.RUNS_PREFIX)} == {
        "doubled",
        "doubled_elsewhere",
    }
    items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
    leading = sorted(item["pk"]["S"].split("/", 1)[0] for item in items)
    assert leading == ["doubled"] * 2 + ["doubled_elsewhere"] * 2


def test_a_dynamic_finish_naming_another_workflow_s_sub_spec_is_refused(sandbox: Sandbox) -> None:
    from stratoflow.runtime.aws import AwsRunnerEnv, RunnerSettings, run_node_event

    compiled = sandbox.deploy(lower(ct.doubled))
    env = AwsRunnerEnv(
        s3=sandbox.aws.client("s3"),
        dynamodb=sandbox.aws.client("dynamodb"),
        settings=RunnerSettings(bucket=sandbox.bucket, cache_table=sandbox.table, cache_ttl_seconds=None),
    )
    theirs = protocol.dynamic_spec_key("doubled_elsewhere", "sub", compiled.spec_json)
    event = protocol.NodeEvent(
        run="r1",
        spec=compiled.spec_key,
        node="cached_double",
        mode=protocol.Mode.DYNAMIC_FINISH,
        sub_run="r1.cached_double",
        sub_spec=theirs,
    )
    with pytest.raises(IntegrityError, match="of another workflow: refused"):
        run_node_event(event, env)
    assert _keys(sandbox, protocol.run_prefix("doubled", "r1")) == []
