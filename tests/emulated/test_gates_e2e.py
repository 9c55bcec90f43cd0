"""Flyte's gates: ``sleep``, ``wait_for_input`` and ``approve`` complete (or time out) alike locally and on
emulated AWS, the signal sent from another thread while the run waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stratoflow import ir
from stratoflow.backends.local import RunHistory, RunOptions, run_local, run_recorded
from stratoflow.backends.local import _executor as local_executor
from stratoflow.client._signals import remote_gate
from stratoflow.errors import InputError, TaskFailedError
from stratoflow.lower import lower
from stratoflow.runtime import send_local_signal, signal_body, waiting_gate
from stratoflow.testing._sandbox import Sandbox
from stratoflow.values import LocalBlobStore
from tests.emulated import gate_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _when_waiting(find: Callable[[], object], send: Callable[[], None]) -> threading.Thread:
    """A thread that sends a signal once the gate waits for it (as another shell would)."""

    def run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                find()
            except InputError:
                time.sleep(0.05)
                continue
            send()
            return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _local(
    spec: ir.WorkflowSpec,
    inputs: dict[str, object],
    home: Path,
    name: str,
    value: object,
    *,
    approved: bool = True,
) -> dict[str, object]:
    run_id = f"local-{name}-{time.monotonic_ns()}"

    def send() -> None:
        gate = waiting_gate(home, spec.name, run_id, name)
        body = signal_body(gate, value, LocalBlobStore(home), approved=approved)
        send_local_signal(home, spec.name, run_id, name, body)

    thread = _when_waiting(lambda: waiting_gate(home, spec.name, run_id, name), send)
    try:
        return run_local(spec, inputs, RunOptions(home=home, progress=False), run_id=run_id).outputs
    finally:
        thread.join(timeout=5)


def _emulated(
    sandbox: Sandbox, spec: ir.WorkflowSpec, inputs: dict[str, object], name: str, send: Callable[[str], None]
) -> dict[str, object]:
    sandbox.deploy(spec)
    assert sandbox.client is not None
    execution = sandbox.client.submit(spec, inputs)
    client = sandbox.client
    thread = _when_waiting(
        lambda: remote_gate(client.s3, client.bucket, execution.run_id, name), lambda: send(execution.run_id)
    )
    try:
        return execution.wait(timeout=60).outputs()
    finally:
        thread.join(timeout=5)


def test_wait_for_input_takes_the_signalled_value_everywhere(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(gate_flows.asks)
    local = _local(spec, {"n": 1}, tmp_path, "factor", 5)
    sandbox.deploy(spec)
    client = sandbox.client
    assert client is not None
    emulated = _emulated(sandbox, spec, {"n": 1}, "factor", lambda run: client.signal(run, "factor", 5))
    assert local == emulated == {"o0": 20}


def test_approve_passes_the_value_on_and_a_rejection_fails_alike(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(gate_flows.gated)
    sandbox.deploy(spec)
    client = sandbox.client
    assert client is not None
    local = _local(spec, {"n": 4}, tmp_path, "deploy", None)
    emulated = _emulated(sandbox, spec, {"n": 4}, "deploy", lambda run: client.approve(run, "deploy"))
    assert local == emulated == {"o0": "published 8"}
    with pytest.raises(TaskFailedError) as local_error:
        _local(spec, {"n": 4}, tmp_path, "deploy", None, approved=False)
    with pytest.raises(TaskFailedError) as remote_error:
        _emulated(sandbox, spec, {"n": 4}, "deploy", lambda run: client.approve(run, "deploy", reject=True))
    assert str(local_error.value) == "approval 'deploy' was rejected"
    assert str(remote_error.value).endswith(": approval 'deploy' was rejected")
    assert local_error.value.node == remote_error.value.node == "deploy"
    assert local_error.value.error_type == remote_error.value.error_type == "Sdk.GateRejected"


def test_a_gate_past_its_timeout_fails_the_run_with_the_same_message(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(gate_flows.asks_briefly)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {}, RunOptions(home=tmp_path, progress=False))
    with pytest.raises(TaskFailedError) as emulated:
        sandbox.run(spec, {})
    message = "input 'factor' got no signal within 1s (timed out)"
    assert str(local.value) == message and str(emulated.value).endswith(f": {message}")
    assert local.value.node == emulated.value.node == "factor"
    assert local.value.error_type == emulated.value.error_type == "Sdk.GateTimeout"


def test_sleep_waits_everywhere(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = lower(gate_flows.napping)
    slept: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    # What the local executor asks for, not how long it took (timing belongs in bench/).
    monkeypatch.setattr(local_executor.time, "sleep", recording_sleep)
    local = run_local(spec, {"n": 3}, RunOptions(home=tmp_path, progress=False)).outputs
    monkeypatch.undo()
    assert 1 in slept
    execution = sandbox.run(spec, {"n": 3})
    assert local == execution.outputs() == {"o0": 12}
    events = sandbox.aws.wait(execution.arn, timeout=60).events
    waits = [e for e in events if e["type"] == "WaitStateEntered"]
    assert len(waits) == 1


def test_a_sleep_that_ran_is_recorded_as_a_local_runs_is(sandbox: Sandbox, tmp_path: Path) -> None:
    # Its Wait calls no runner: the steps around it record when it started and ended (before them,
    # the emulated record of a sleep that ran said "skipped", with no times).
    spec = lower(gate_flows.napping)
    run_id = run_recorded(spec, {"n": 3}, RunOptions(home=tmp_path, progress=False)).run_id
    local = RunHistory(tmp_path / "runs.sqlite").nodes(run_id)
    emulated = sandbox.run(spec, {"n": 3}).node_records()
    assert (
        [(r.node, r.status) for r in emulated]
        == [(r.node, r.status) for r in local]
        == [
            ("double", ir.NodeStatus.SUCCEEDED),
            ("sleep", ir.NodeStatus.SUCCEEDED),
            ("double_2", ir.NodeStatus.SUCCEEDED),
        ]
    )
    for records in (local, emulated):
        nap = next(r for r in records if r.node == "sleep")
        assert nap.started is not None and nap.finished is not None
        assert nap.finished >= nap.started
