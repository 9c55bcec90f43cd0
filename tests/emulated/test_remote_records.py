"""The runner's side of remote node records: where a container says its logs go, map items written
one object per batch and expanded on read, and the progress drawn from polling the records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from stratoflow import ir
from stratoflow.cli._remote_progress import RecordsWatcher
from stratoflow.client._records import stored_records
from stratoflow.ir import _node_record
from stratoflow.lower import lower
from stratoflow.runtime._remote_records import RecordWriter, Where, awslogs_location, container_where
from stratoflow.testing import Sandbox
from stratoflow.values import ItemResult
from tests.http_server import serving_handler
from tests.local import _record_flows as flows

_WF = lower(flows.recorded).name  # the workflow whose run prefix the records are under

pytestmark = pytest.mark.emulated

S = ir.NodeStatus


def _serve(body: Any) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    with serving_handler(Handler) as base:
        yield f"{base}/v4/abc"


@pytest.fixture
def metadata() -> Iterator[str]:
    """An ECS task metadata endpoint (v4) answering for a container that logs with awslogs."""
    yield from _serve(
        {
            "Name": "runner",
            "LogDriver": "awslogs",
            "LogOptions": {
                "awslogs-group": "/stratoflow/fargate",
                "awslogs-region": "us-east-1",
                "awslogs-stream": "TaskDef_cpu4_mem12288/runner/0123456789abcdef",
            },
        }
    )


def test_a_container_reads_its_log_stream_from_the_metadata_endpoint(metadata: str) -> None:
    where = container_where({"ECS_CONTAINER_METADATA_URI_V4": metadata})
    assert where == Where(
        target="fargate",
        logs=ir.LogLocation(
            kind="cloudwatch",
            group="/stratoflow/fargate",
            stream="TaskDef_cpu4_mem12288/runner/0123456789abcdef",
        ),
    )
    assert (
        container_where({"ECS_CONTAINER_METADATA_URI_V4": metadata, "AWS_BATCH_JOB_ID": "j-1"}).target
        == "batch"
    )
    assert container_where({}) == Where(target="fargate")  # not on ECS (the emulator): no location


def test_no_location_without_awslogs_or_an_endpoint() -> None:
    served = _serve({"LogDriver": "json-file", "LogOptions": {}})
    uri = next(served)
    try:
        assert awslogs_location(uri) is None
    finally:
        next(served, None)
    assert awslogs_location("http://127.0.0.1:9/v4/nothing-listens", timeout=0.2) is None


def test_map_items_are_one_object_per_batch_and_read_back_one_record_each() -> None:
    with Sandbox() as sandbox:
        s3 = sandbox.aws.client("s3")
        spec = lower(flows.recorded)
        writer = RecordWriter(s3, sandbox.bucket, _WF, "run-1", Where(target="fargate"))
        first = {i: ItemResult(attempts=1, started=1.0, finished=2.0) for i in range(0, 3)}
        second = {3: ItemResult(error="task failed: boom", attempts=2), 4: ItemResult(cache_hit=True)}
        writer.items(spec, "map_shout", first)
        writer.items(spec, "map_shout", second)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sandbox.bucket)["Contents"]]
        assert sorted(keys) == [
            _node_record.node_record_key(_WF, "run-1", "map_shout", 0),
            _node_record.node_record_key(_WF, "run-1", "map_shout", 3),
        ]
        records = {r.item: r for r in stored_records(s3, sandbox.bucket, _WF, "run-1")}
        assert sorted(records) == [0, 1, 2, 3, 4]
        assert (records[0].status, records[0].attempts, records[0].target) == (S.SUCCEEDED, 1, "fargate")
        assert (records[3].status, records[3].attempts, records[3].error) == (
            S.FAILED,
            2,
            "task failed: boom",
        )
        assert (records[4].status, records[4].cache_hit, records[4].target) == (S.CACHED, True, "none")
        # A dynamic sub-run's nodes are recorded under the top run, named <dynamic node>/<child>.
        RecordWriter(s3, sandbox.bucket, _WF, "run-1.fan", Where()).node("add", S.SUCCEEDED, attempts=1)
        assert ("fan/add", "run-1") in {
            (r.node, r.run_id) for r in stored_records(s3, sandbox.bucket, _WF, "run-1")
        }


class _Progress:
    """A RunProgress that writes down what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def node_done(self, node_id: str) -> None:
        self.calls.append(("done", node_id))

    def map_started(self, node_id: str, total: int) -> None:
        self.calls.append(("map", node_id, str(total)))

    def map_advanced(self, node_id: str, items: int) -> None:
        self.calls.append(("items", node_id, str(items)))

    def map_finished(self, node_id: str) -> None:
        self.calls.append(("map done", node_id))

    def stop(self) -> None:
        self.calls.append(("stop",))


def test_progress_of_a_remote_run_follows_its_records() -> None:
    with Sandbox() as sandbox:
        assert sandbox.client is not None
        spec = lower(flows.recorded)
        execution = sandbox.run(spec, {"n": 4}, timeout=90)
        s3 = sandbox.aws.client("s3")
        progress = _Progress()
        watcher = RecordsWatcher(s3, sandbox.bucket, execution.run_id, spec, progress)
        # A map node still running when a poll saw it: its bar, then its items, then done.
        writer = RecordWriter(s3, sandbox.bucket, _WF, execution.run_id, Where())
        writer.node("map_shout", S.RUNNING, started=1.0)
        s3.delete_object(
            Bucket=sandbox.bucket, Key=ir.protocol.node_outputs_key(_WF, execution.run_id, "map_shout")
        )
        seen: list[list[ir.NodeRecord]] = []
        watcher.on_records = seen.append
        watcher.poll()
        assert ("map", "map_shout", "4") in progress.calls
        assert ("items", "map_shout", "4") in progress.calls
        assert ("done", "map_shout") not in progress.calls
        done = {call[1] for call in progress.calls if call[0] == "done"}
        assert done == {node.id for node in spec.nodes} - {"map_shout"}
        writer.node("map_shout", S.SUCCEEDED, started=1.0, finished=2.0)
        watcher.poll()
        assert progress.calls[-2:] == [("map done", "map_shout"), ("done", "map_shout")]
        watcher.poll()  # nothing new: nothing drawn twice
        assert progress.calls.count(("done", "map_shout")) == 1
        assert len(seen) == 3 and {r.node for r in seen[0]} >= {"spread", "flaky", "map_shout"}


def test_a_poller_reads_only_the_record_objects_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox() as sandbox:
        s3 = sandbox.aws.client("s3")
        writer = RecordWriter(s3, sandbox.bucket, _WF, "run-2", Where())
        writer.node("a", S.RUNNING, started=1.0)
        writer.node("b", S.SUCCEEDED, attempts=1)
        seen: dict[str, tuple[str, list[ir.NodeRecord]]] = {}
        assert {r.node for r in stored_records(s3, sandbox.bucket, _WF, "run-2", seen)} == {"a", "b"}
        writer.node("a", S.SUCCEEDED, started=1.0, finished=2.0)
        read: list[str] = []
        original = s3.get_object

        def counted(**kwargs: Any) -> Any:
            read.append(kwargs["Key"])
            return original(**kwargs)

        monkeypatch.setattr(s3, "get_object", counted)
        again = {r.node: r.status for r in stored_records(s3, sandbox.bucket, _WF, "run-2", seen)}
        assert again == {"a": S.SUCCEEDED, "b": S.SUCCEEDED}
        assert read == [_node_record.node_record_key(_WF, "run-2", "a")]  # b unchanged: not read again
