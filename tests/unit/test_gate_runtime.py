"""Gates at run time without a backend: signals, their errors, and what a dynamic graph may hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow.errors import InputError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import signal_body, waiting_gate
from stratoflow.runtime._dynamic import check_remote_graph
from stratoflow.values import LocalBlobStore
from tests.emulated import gate_flows


def test_a_dynamic_graph_with_a_gate_fails_on_aws_with_a_clear_message() -> None:
    spec = lower(gate_flows.napping)
    with pytest.raises(TaskFailedError) as info:
        check_remote_graph(spec, "plan", protocol.DynamicCompute())
    assert str(info.value) == (
        "@dynamic node 'plan' built a graph this stack cannot run: node 'sleep': a sleep gate "
        "(the interpreter runs task, map and conditional nodes only)"
    )


def test_a_signal_of_the_wrong_type_is_an_input_error(tmp_path: Path) -> None:
    gate = lower(gate_flows.asks).gate("factor")
    with pytest.raises(InputError) as info:
        signal_body(gate, "three", LocalBlobStore(tmp_path))
    assert str(info.value).startswith("signal 'factor' expects int: ")


def test_no_waiting_gate_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        waiting_gate(tmp_path, "wf", "run1", "factor")
    assert str(info.value) == "run run1 has no gate waiting for signal 'factor'"
