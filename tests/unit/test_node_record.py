"""The per-node record contract: one JSON shape for every backend, and its bucket keys."""

from __future__ import annotations

from stratoflow import ir
from stratoflow.ir._node_record import node_record_key, node_records_prefix


def test_a_record_round_trips_through_json() -> None:
    record = ir.NodeRecord(
        run_id="r1",
        node="train",
        status=ir.NodeStatus.FAILED,
        attempts=3,
        target="fargate-spot",
        error="ValueError: bad",
        logs=ir.LogLocation(kind="cloudwatch", group="/stratoflow/x", stream="s"),
    )
    again = ir.NodeRecord.model_validate_json(record.model_dump_json())
    assert again == record
    assert again.status is ir.NodeStatus.FAILED


def test_record_keys_sit_under_the_run() -> None:
    assert node_records_prefix("wf", "r1") == "runs/wf/r1/records/"
    assert node_record_key("wf", "r1", "square") == "runs/wf/r1/records/square.json"
    assert node_record_key("wf", "r1", "square", 7) == "runs/wf/r1/records/square/items/7.json"
