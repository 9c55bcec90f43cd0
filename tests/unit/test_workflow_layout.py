"""The bucket layout is per workflow (issue 9 item 4): every run object of a workflow lies under
``protocol.workflow_runs_prefix(workflow)``, a spec key names its workflow, and cache items lead
with it; so one IAM prefix and one leading-key condition bound what a workflow's roles may write."""

from __future__ import annotations

import pytest

from stratoflow.ir import protocol


def _run_keys(workflow: str, run: str) -> list[str]:
    return [
        protocol.run_prefix(workflow, run),
        protocol.inputs_key(workflow, run),
        protocol.node_outputs_prefix(workflow, run),
        protocol.node_outputs_key(workflow, run, "n"),
        protocol.dynamic_run_key(workflow, run),
        protocol.trigger_prefix(workflow, run),
        protocol.map_prefix(workflow, run, "m"),
        protocol.map_items_key(workflow, run, "m"),
        protocol.map_meta_key(workflow, run, "m"),
        protocol.map_inputs_key(workflow, run, "m", 0),
        protocol.map_results_prefix(workflow, run, "m"),
        protocol.map_results_key(workflow, run, "m", 0),
        protocol.container_error_key(workflow, run, "n"),
        protocol.checkpoints_prefix(workflow, run, "n"),
        protocol.checkpoint_key(workflow, run, "n", 2),
        protocol.raw_output_prefix(workflow, run),
        protocol.signal_key(workflow, run, "go"),
        protocol.gate_token_key(workflow, run, "go"),
    ]


def test_every_run_key_lies_under_its_workflow_s_prefix() -> None:
    for key in _run_keys("etl", "r1"):
        assert key.startswith("runs/etl/r1/"), key
        assert key.startswith(protocol.workflow_runs_prefix("etl"))
    # A workflow whose name another's begins with: the prefixes never overlap.
    assert not protocol.inputs_key("etl_v2", "r1").startswith(protocol.workflow_runs_prefix("etl"))


def test_a_spec_key_names_its_workflow() -> None:
    deployed = protocol.spec_key("etl", b"{}")
    planned = protocol.dynamic_spec_key("etl", "etl_fanout", b"{}")
    assert planned.startswith(protocol.dynamic_specs_prefix("etl"))
    assert (protocol.spec_workflow(deployed), protocol.spec_key_prefix(deployed)) == (
        "etl",
        protocol.SPECS_PREFIX,
    )
    assert (protocol.spec_workflow(planned), protocol.spec_key_prefix(planned)) == (
        "etl",
        protocol.DYNAMIC_SPECS_PREFIX,
    )
    assert protocol.spec_digest_ok(planned, b"{}") and not protocol.spec_digest_ok(planned, b"[]")


@pytest.mark.parametrize(
    "key",
    [
        "dynamic-specs/etl_fanout/0123456789abcdef.json",  # the layout before workflows: no workflow
        "specs/etl/sub/0123456789abcdef.json",
        "dynamic-specs/etl/../x/0123456789abcdef.json",
        "runs/etl/r1/inputs.json",
    ],
)
def test_other_keys_name_no_workflow(key: str) -> None:
    assert protocol.spec_workflow(key) is None
    assert protocol.spec_key_prefix(key) is None


def test_cache_items_lead_with_their_workflow() -> None:
    item = protocol.cache_item_key("etl", "ab" * 32)
    assert item == f"etl/{'ab' * 32}"
    pattern = protocol.cache_items_pattern("etl")
    assert pattern == "etl/*"
    assert not protocol.cache_item_key("etl_v2", "k").startswith(pattern.removesuffix("*"))
