"""Canaries for the Distributed Map BatchInput emulation (``install_definition_rewrites``).

The compiled ``map_task`` passes the run id to each child in ``ItemBatcher.BatchInput``
as a JSONPath (``{"run.$": "$$.Execution.Name"}``): inside a child, ``$$.Execution.Name``
is the child's own name. moto 5.2.5 has no ItemBatcher at all; the patch batches items
and resolves BatchInput paths against the *parent* execution. When ``test_raw_*`` fails,
moto changed: check whether it now evaluates BatchInput itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from stratoflow.testing import EmulatedAws
from stratoflow.testing._patches_map import max_items_from_path, resolve_batch_input

pytestmark = pytest.mark.emulated

_BATCHER = {
    "MaxItemsPerBatch": 2,
    "BatchInput": {"run.$": "$$.Execution.Name", "tag.$": "$.tag", "fixed": "x", "nested": {"k.$": "$.tag"}},
}
_CHILD = {
    "StartAt": "Echo",
    "States": {
        "Echo": {
            "Type": "Pass",
            "Parameters": {"batch.$": "$.BatchInput", "n.$": "States.ArrayLength($.Items)"},
            "End": True,
        }
    },
}


def _machine(execution_type: str = "EXPRESS") -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemBatcher": _BATCHER,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                    **_CHILD,
                },
                "End": True,
            }
        },
    }


def test_raw_grammar_rejects_item_batcher_with_a_jsonpath_batch_input(raw_aws: EmulatedAws) -> None:
    with pytest.raises(ClientError, match="ASLParserException"):
        raw_aws.create_state_machine("m", _machine("STANDARD"))


def test_batch_input_paths_resolve_against_the_parent_execution(aws: EmulatedAws) -> None:
    arn = aws.create_state_machine("m", _machine())
    result = aws.start_and_wait(arn, {"items": [1, 2, 3], "tag": "t"}, name="parent-run")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    batch = {"run": "parent-run", "tag": "t", "fixed": "x", "nested": {"k": "t"}}
    assert result.output == [{"batch": batch, "n": 2}, {"batch": batch, "n": 1}]


def test_resolve_batch_input_rejects_intrinsics_it_cannot_emulate() -> None:
    context = {"Execution": {"Name": "run"}}
    assert resolve_batch_input({"a.$": "$$.Execution.Name", "b": [1]}, {}, context) == {"a": "run", "b": [1]}
    with pytest.raises(NotImplementedError, match="only JSONPaths"):
        resolve_batch_input({"a.$": "States.UUID()"}, {}, context)


def _path_machine() -> dict[str, Any]:
    """A container map's shape: batch size and batch time limit read from the Map's input."""
    machine = _machine("STANDARD")
    machine["States"]["M"]["ItemBatcher"] = {
        "MaxItemsPerBatchPath": "$.map.batch_size",
        "BatchInput": {"timeout.$": "$.map.batch_timeout"},
    }
    machine["States"]["M"]["ItemProcessor"]["States"] = {
        "Echo": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.ArrayLength($.Items)", "timeout.$": "$.BatchInput.timeout"},
            "End": True,
        }
    }
    return machine


def test_raw_grammar_rejects_max_items_per_batch_path(raw_aws: EmulatedAws) -> None:
    with pytest.raises(ClientError, match="ASLParserException"):
        raw_aws.create_state_machine("m", _path_machine())


def test_max_items_per_batch_path_is_read_from_the_map_input(aws: EmulatedAws) -> None:
    arn = aws.create_state_machine("m", _path_machine())
    result = aws.start_and_wait(arn, {"items": list(range(7)), "map": {"batch_size": 3, "batch_timeout": 90}})
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == [{"n": 3, "timeout": 90}, {"n": 3, "timeout": 90}, {"n": 1, "timeout": 90}]


def test_max_items_per_batch_path_must_be_a_positive_integer() -> None:
    assert max_items_from_path("$.map.n", {"map": {"n": 4}}) == 4
    for bad in (0, "4", True, None):
        with pytest.raises(ValueError, match=r"MaxItemsPerBatchPath \$\.map\.n is .* not a positive integer"):
            max_items_from_path("$.map.n", {"map": {"n": bad}})
