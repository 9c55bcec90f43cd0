"""Gates inside a ``@dynamic`` sub-workflow: a sleep, a signal and an approval complete alike locally
and on emulated AWS, each signal sent to the *parent* run's id (the gate waits in the sub-run), and
a timeout fails with the same words."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stratoflow import cli, ir
from stratoflow.backends.local import RunHistory, RunOptions, run_local, run_recorded
from stratoflow.client import Execution
from stratoflow.client._signals import remote_gate
from stratoflow.errors import InputError, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime._dynamic import sub_run_id
from stratoflow.testing import EmulatedAws
from stratoflow.testing._sandbox import INTERPRETER_MACHINE, Sandbox
from tests.emulated import gate_flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


@contextlib.contextmanager
def _sending(*sends: Callable[[], bool]) -> Iterator[None]:
    """While the body runs, a thread sends each signal in turn, each once its gate waits (as
    another shell would; ``send`` returns whether it was delivered); it stops with the body."""
    stop = threading.Event()

    def run() -> None:
        for send in sends:
            while not stop.is_set() and not send():
                stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _cli(*argv: str) -> Callable[[], bool]:
    """``stratoflow signal|approve ...`` locally (exit 2 while no gate waits for it)."""
    return lambda: cli.main(list(argv)) == 0


def _cli_waiting(home: Path, command: str, name: str, *rest: str) -> Callable[[], bool]:
    """``_cli`` to the one local run (or sub-run) waiting for signal ``name``, by its id's prefix."""

    def attempt() -> bool:
        waiting = sorted(home.glob(f"runs/*/*/gates/{name}.json"))
        return bool(waiting) and cli.main([command, waiting[0].parent.parent.name[:12], name, *rest]) == 0

    return attempt


def _remote(send: Callable[[], None]) -> Callable[[], bool]:
    def attempt() -> bool:
        try:
            send()
        except InputError:
            return False
        return True

    return attempt


def _emulated(sandbox: Sandbox, *, reject: bool = False) -> Execution:
    """``dynamic_gates(n=2)`` on the emulated stack, its signal and approval (or rejection) sent to
    the parent run as another shell would; the execution once it ended (raises if it failed)."""
    spec = lower(gate_flows.dynamic_gates)
    sandbox.deploy(spec)
    client = sandbox.client
    assert client is not None
    execution = client.submit(spec, {"n": 2})
    with _sending(
        _remote(lambda: client.signal(execution.run_id, "factor", 5)),
        _remote(lambda: client.approve(execution.run_id, "deploy", reject=reject)),
    ):
        return execution.wait(timeout=60)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    return tmp_path


def test_a_dynamic_graph_sleeps_then_takes_a_signal_and_an_approval_everywhere(
    sandbox: Sandbox, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = lower(gate_flows.dynamic_gates)
    run_id = f"local-gates-{time.monotonic_ns()}"
    with _sending(_cli("signal", run_id, "factor", "5"), _cli("approve", run_id, "deploy")):
        local = run_local(spec, {"n": 2}, RunOptions(home=home, progress=False), run_id=run_id).outputs
    capsys.readouterr()  # the CLI's "no gate waiting" lines while it polled

    execution = _emulated(sandbox)
    emulated = execution.outputs()
    assert local == emulated == {"o0": "published 20"}
    # The sub-run's interpreter waited in a Wait state and in a task-token state.
    sfn = sandbox.aws.client("stepfunctions")
    interpreter = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if m["name"] == INTERPRETER_MACHINE
    )
    sub_run = sub_run_id(execution.run_id, "plan_with_gates")
    (arn,) = (
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=interpreter)["executions"]
        if e["name"] == sub_run
    )
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = {e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")}
    assert {"sleep", "gate", "gate_finish"} <= entered


def test_a_rejected_approval_inside_a_dynamic_graph_fails_alike(sandbox: Sandbox, home: Path) -> None:
    spec = lower(gate_flows.dynamic_gates)
    run_id = f"local-reject-{time.monotonic_ns()}"
    with (
        _sending(_cli("signal", run_id, "factor", "5"), _cli("approve", run_id, "deploy", "--reject")),
        pytest.raises(TaskFailedError) as local,
    ):
        run_local(spec, {"n": 2}, RunOptions(home=home, progress=False), run_id=run_id)

    with pytest.raises(TaskFailedError) as emulated:
        _emulated(sandbox, reject=True)
    assert str(local.value).endswith("approval 'deploy' was rejected")
    assert str(emulated.value).endswith("approval 'deploy' was rejected")
    assert local.value.error_type == emulated.value.error_type == "Sdk.GateRejected"


def test_a_signal_inside_a_dynamic_graph_times_out_with_the_same_message(
    sandbox: Sandbox, home: Path
) -> None:
    spec = lower(gate_flows.dynamic_asks_briefly)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {"n": 2}, RunOptions(home=home, progress=False))
    with pytest.raises(TaskFailedError) as emulated:
        sandbox.run(spec, {"n": 2})
    message = "input 'factor' got no signal within 1s (timed out)"
    assert str(local.value).endswith(message) and str(emulated.value).endswith(message)
    assert local.value.error_type == emulated.value.error_type == "Sdk.GateTimeout"
    assert local.value.node == emulated.value.node


def test_a_signal_to_the_parent_finds_its_one_waiting_sub_run_and_refuses_two(aws: EmulatedAws) -> None:
    bucket = "signals-bucket"
    aws.create_bucket(bucket)
    s3 = aws.client("s3")
    gate = lower(gate_flows.asks).gate("factor")
    record = protocol.GateRecord(token="tok-a", node=gate.model_dump_json()).model_dump_json()  # noqa: S106 - a fake task token
    s3.put_object(Bucket=bucket, Key=protocol.gate_token_key("wf", "r1.plan", "factor"), Body=record.encode())
    s3.put_object(Bucket=bucket, Key=protocol.gate_token_key("wf", "r10", "factor"), Body=record.encode())
    # r1's own id has no gate; its sub-run r1.plan has (r10, another run, is not a sub-run of r1).
    found, token = remote_gate(s3, bucket, "r1", "factor")
    assert (found.name, token) == ("factor", "tok-a")
    s3.put_object(
        Bucket=bucket, Key=protocol.gate_token_key("wf", "r1.other", "factor"), Body=record.encode()
    )
    with pytest.raises(InputError) as info:
        remote_gate(s3, bucket, "r1", "factor")
    assert str(info.value) == "run r1 has 2 sub-runs waiting for signal 'factor': ['r1.other', 'r1.plan']"
    with pytest.raises(InputError) as info:
        remote_gate(s3, bucket, "r2", "factor")
    assert str(info.value) == "run r2 has no gate waiting for signal 'factor'"


def test_a_gates_record_says_how_long_it_waited_as_a_local_runs_does(sandbox: Sandbox, home: Path) -> None:
    spec = lower(gate_flows.dynamic_gates)
    with _sending(_cli_waiting(home, "signal", "factor", "5"), _cli_waiting(home, "approve", "deploy")):
        run_id = run_recorded(spec, {"n": 2}, RunOptions(home=home, progress=False)).run_id
    local = {r.node: r for r in RunHistory(home / "runs.sqlite").nodes(run_id)}

    emulated = {r.node: r for r in _emulated(sandbox).node_records()}
    (nap,) = [node for node in local if node.startswith("plan_with_gates/") and "sleep" in node]
    for gate in (nap, "plan_with_gates/plan_with_gates__factor", "plan_with_gates/plan_with_gates__deploy"):
        for records in (local, emulated):
            record = records[gate]
            assert (record.status, record.target, record.attempts) == (ir.NodeStatus.SUCCEEDED, "none", 0)
            assert record.started is not None and record.finished is not None
            assert record.finished >= record.started
