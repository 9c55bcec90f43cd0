"""The DAG layout the run page draws: every node a box, edges from the bindings, columns by depth."""

from __future__ import annotations

from typing import Any

from stratoflow.lower import lower
from stratoflow.ui._layout import BOX_HEIGHT, BOX_WIDTH, layout
from tests.ui import _ui_flows


def _by_id(drawing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {box["id"]: box for box in drawing["nodes"]}


def test_every_node_input_and_output_is_a_box_and_every_binding_an_edge() -> None:
    spec = lower(_ui_flows.squares)
    drawing = layout(spec)
    boxes = _by_id(drawing)
    assert set(boxes) == {node.id for node in spec.all_nodes()} | {"in:n", "in:limit", "out:o0"}
    kinds = {boxes[node.id]["kind"] for node in spec.nodes}
    assert kinds == {"task", "map"}
    edges = {(e["source"], e["target"]) for e in drawing["edges"]}
    for node in spec.task_nodes():
        for upstream in node.upstream():
            assert (upstream, node.id) in edges
    assert ("in:limit", spec.nodes[-1].id) in edges
    assert (spec.nodes[-1].id, "out:o0") in edges


def test_an_edge_always_goes_right_and_no_two_boxes_overlap() -> None:
    drawing = layout(lower(_ui_flows.squares))
    boxes = _by_id(drawing)
    for edge in drawing["edges"]:
        assert boxes[edge["source"]]["x"] < boxes[edge["target"]]["x"]
    placed = list(boxes.values())
    for index, a in enumerate(placed):
        for b in placed[index + 1 :]:
            apart = abs(a["x"] - b["x"]) >= BOX_WIDTH or abs(a["y"] - b["y"]) >= BOX_HEIGHT
            assert apart, (a, b)
        assert a["x"] + BOX_WIDTH <= drawing["width"]
        assert a["y"] + BOX_HEIGHT <= drawing["height"]


def test_parallel_nodes_share_a_column_one_above_the_other() -> None:
    spec = lower(_ui_flows.diamond)
    boxes = _by_id(layout(spec))
    left, right = (node.id for node in spec.nodes[1:3])
    assert boxes[left]["x"] == boxes[right]["x"]
    assert boxes[left]["y"] != boxes[right]["y"]


def test_a_conditionals_cases_hang_off_it_and_come_before_its_readers() -> None:
    spec = lower(_ui_flows.branchy)
    drawing = layout(spec)
    boxes = _by_id(drawing)
    (branch,) = (node for node in spec.nodes if node.kind == "branch")
    inner = [node.id for node in branch.inner_nodes()]
    assert inner
    edges = {(e["source"], e["target"]) for e in drawing["edges"]}
    for node_id in inner:
        assert (branch.id, node_id) in edges
        assert boxes[node_id]["x"] > boxes[branch.id]["x"]
        assert boxes[node_id]["x"] < boxes["out:o0"]["x"]
