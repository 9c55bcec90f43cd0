"""The web UI's remote source (`stratoflow ui --remote`) over a stack in emulated AWS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stratoflow import ir
from stratoflow.errors import TaskFailedError
from stratoflow.ir._node_record import node_record_key
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from stratoflow.ui import RemoteSource, create_app
from tests.emulated import flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def deployed() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        sandbox.deploy(lower(flows.diamond))
        sandbox.deploy(lower(flows.failing_flow))
        yield sandbox


def test_remote_runs_show_status_outputs_error_graph_and_the_console_link(deployed: Sandbox) -> None:
    client = deployed.client
    assert client is not None
    ok = client.run(flows.diamond, x=2).wait(timeout=60)
    failed = client.run(flows.failing_flow, x=1)
    with pytest.raises(TaskFailedError):
        failed.wait(timeout=60)
    with TestClient(create_app(RemoteSource(client))) as api:
        listed = api.get("/api/runs").json()
        runs = listed["runs"]
        assert listed["workflows"] == ["diamond", "failing_flow"]
        assert listed["source"] == f"stack Stratoflow in {client.sfn.meta.region_name}"
        assert {(r["run_id"], r["workflow"], r["status"]) for r in runs} == {
            (ok.run_id, "diamond", "SUCCEEDED"),
            (failed.run_id, "failing_flow", "FAILED"),
        }
        assert [r["run_id"] for r in api.get("/api/runs?workflow=diamond").json()["runs"]] == [ok.run_id]
        run = api.get(f"/api/runs/{ok.run_id}").json()
        assert run["outputs"] == {"o0": "5+8"}
        region = client.sfn.meta.region_name
        assert run["console_url"] == (
            f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{ok.arn}"
        )
        drawn = {box["id"] for box in run["spec"]["graph"]["nodes"]}
        assert {node.id for node in lower(flows.diamond).nodes} <= drawn
        gone = api.get(f"/api/runs/{failed.run_id}").json()
        assert gone["status"] == "FAILED"
        # The message `run --remote` prints, not Step Functions' raw cause.
        assert "cannot handle 1" in gone["error"]
        assert "{" not in gone["error"]
        assert "BrokenPipelineError" in gone["traceback"]
        assert gone["outputs"] is None
        nodes = api.get(f"/api/runs/{ok.run_id}/nodes").json()["nodes"]
        shown = {n["node"]: n["outputs"] for n in nodes}
        # Every finished node's outputs, read from where the runner stored them; the last is the run's.
        assert set(shown) == {node.id for node in lower(flows.diamond).nodes}
        assert shown["combine"] == {"o0": '"5+8"'}
        assert shown["increment"] == {"o0": "5"}
        failed_nodes = api.get(f"/api/runs/{failed.run_id}/nodes").json()["nodes"]
        assert {n["node"]: n["outputs"] for n in failed_nodes} == {"always_fails": None}
        assert api.get("/api/runs/no-such-run").status_code == 404


def test_remote_node_records_and_their_cloudwatch_logs_are_read_from_where_the_runner_puts_them(
    deployed: Sandbox,
) -> None:
    client = deployed.client
    assert client is not None
    run = client.run(flows.diamond, x=3).wait(timeout=60)
    logs = deployed.aws.session.client("logs")
    logs.create_log_group(logGroupName="/stratoflow/runner")
    logs.create_log_stream(logGroupName="/stratoflow/runner", logStreamName="2026/12/01/abc")
    logs.put_log_events(
        logGroupName="/stratoflow/runner",
        logStreamName="2026/12/01/abc",
        # A Lambda stream holds every invocation its environment served: an earlier one's line
        # is outside the record's window and must not show.
        logEvents=[
            {"timestamp": int((time.time() - 600) * 1000), "message": "another invocation"},
            {"timestamp": int(time.time() * 1000), "message": "doubling 3"},
        ],
    )
    node = lower(flows.diamond).nodes[0].id
    record = ir.NodeRecord(
        run_id=run.run_id,
        node=node,
        status=ir.NodeStatus.SUCCEEDED,
        attempts=1,
        started=time.time() - 5,
        finished=time.time() + 5,
        target="lambda",
        logs=ir.LogLocation(kind="cloudwatch", group="/stratoflow/runner", stream="2026/12/01/abc"),
    )
    # Where the runner writes a node's record (the contract in ir._node_record).
    client.s3.put_object(
        Bucket=client.bucket,
        Key=node_record_key(lower(flows.diamond).name, run.run_id, node),
        Body=record.model_dump_json().encode(),
    )
    with TestClient(create_app(RemoteSource(client, cloudwatch=logs))) as api:
        nodes = {n["node"]: n for n in api.get(f"/api/runs/{run.run_id}/nodes").json()["nodes"]}
        assert set(nodes) == {n.id for n in lower(flows.diamond).nodes}  # the runner recorded every node
        shown = nodes[node]
        assert (shown["node"], shown["status"], shown["target"]) == (node, "succeeded", "lambda")
        read = api.get(f"/api/runs/{run.run_id}/nodes/{node}/logs").json()
        assert read["text"] == "doubling 3\n"
        assert read["location"]["group"] == "/stratoflow/runner"
