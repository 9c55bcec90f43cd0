"""A cached task that times out on (emulated) AWS writes no outputs and no cache entry afterwards,
as an abandoned local attempt writes nothing."""

from __future__ import annotations

import time

import pytest

from stratoflow.errors import ExecutionError, TaskTimeoutError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import timeout_flows

pytestmark = pytest.mark.emulated


def test_timed_out_cached_task_leaves_no_cache_entry_and_no_outputs() -> None:
    spec = lower(timeout_flows.slow_flow)
    with Sandbox() as sandbox:
        sandbox.deploy(spec)
        assert sandbox.client is not None
        timeout_flows.FINISHED.clear()
        execution = sandbox.client.submit(spec, {"x": 1}, run_id="slow-run")
        # Reported as locally (the node, its timeout, the attempt), with Step Functions' error name.
        with pytest.raises(ExecutionError, match=r"node 'slow_cached' timed out after 1s") as info:
            execution.wait(timeout=30)
        assert isinstance(info.value, TaskTimeoutError) and info.value.error_type == "States.Timeout"
        assert timeout_flows.FINISHED.wait(10), "the timed-out body never returned"
        time.sleep(1.0)  # what the runner would write after the body returns
        items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
        assert items == []
        listed = sandbox.aws.client("s3").list_objects_v2(
            Bucket=sandbox.bucket, Prefix=protocol.node_outputs_prefix(spec.name, "slow-run")
        )
        assert listed.get("KeyCount", 0) == 0
