"""Gates at run time without a backend: signals, their errors, and what a dynamic graph may hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow.errors import InputError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import signal_body, waiting_gate
from stratoflow.runtime._dynamic_dispatch import check_remote_graph, dispatch
from stratoflow.values import LocalBlobStore
from tests.emulated import gate_flows


def test_a_dynamic_graph_dispatches_its_gates_to_the_interpreters_wait_states() -> None:
    spec = lower(gate_flows.napping)
    check_remote_graph(spec, "plan", protocol.DynamicCompute())  # gates need no compute: no error
    sleep = dispatch(spec, "sleep", protocol.DynamicCompute())
    assert (sleep.kind, sleep.seconds, sleep.cause) == (protocol.Dispatch.SLEEP, 1, "")
    gate = dispatch(lower(gate_flows.asks_briefly), "factor", protocol.DynamicCompute())
    assert (gate.kind, gate.seconds) == (protocol.Dispatch.GATE, 1)
    # What the timeout fails with: the words, node and error a local run's timeout has.
    cause = protocol.FailureCause.model_validate_json(gate.cause)
    assert (cause.node, cause.error, cause.attempt) == ("factor", protocol.GATE_TIMEOUT, 1)
    assert cause.message == "input 'factor' got no signal within 1s (timed out)"


def test_a_signal_of_the_wrong_type_is_an_input_error(tmp_path: Path) -> None:
    gate = lower(gate_flows.asks).gate("factor")
    with pytest.raises(InputError) as info:
        signal_body(gate, "three", LocalBlobStore(tmp_path))
    assert str(info.value).startswith("signal 'factor' expects int: ")


def test_no_waiting_gate_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        waiting_gate(tmp_path, "wf", "run1", "factor")
    assert str(info.value) == "run run1 has no gate waiting for signal 'factor'"
