"""A ``run --sandbox`` waiting at a gate is signalled from another shell as a local run is:
``stratoflow signal|approve RUN-PREFIX NAME`` finds it (its gates are announced under
``$STRATOFLOW_HOME``), the emulated run gets the signal, and nothing is left behind after."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stratoflow import cli
from tests.emulated import gate_flows

pytestmark = pytest.mark.emulated

FLOWS = gate_flows.__name__


@contextmanager
def _another_shell(home: Path, workflow: str, *commands: tuple[str, ...]) -> Iterator[list[int]]:
    """While the body runs, a thread runs each ``stratoflow <command> RUN ...`` once the run waits
    for its signal (RUN: the first 12 characters of the waiting run's id, as `executions ls`
    shows); yields the exit codes."""
    codes: list[int] = []
    stop = threading.Event()

    def run() -> None:
        for command, name, *rest in commands:
            while not stop.is_set():
                waiting = sorted((home / "runs" / workflow).glob(f"*/gates/{name}.json"))
                if waiting:
                    run_id = waiting[0].parent.parent.name
                    codes.append(cli.main([command, run_id[:12], name, *rest]))
                    break
                stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield codes
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_sandbox_run_waits_for_a_signal_sent_from_another_shell(
    stratoflow_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _another_shell(stratoflow_home, "asks", ("signal", "factor", "5")) as codes:
        code = cli.main(["run", "--sandbox", "--json", FLOWS, "asks", "--n", "1"])
    assert (code, codes) == (0, [0])
    assert capsys.readouterr().out == '{"o0": 20}\n'
    # The run ended: nothing announces a waiting gate any more.
    assert not list((stratoflow_home / "runs").rglob("*.json"))


def test_gates_inside_a_dynamic_sandbox_run_take_a_signal_and_an_approval(
    stratoflow_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = (("signal", "factor", "5"), ("approve", "deploy"))
    with _another_shell(stratoflow_home, "dynamic_gates", *commands) as codes:
        code = cli.main(["run", "--sandbox", "--json", FLOWS, "dynamic_gates", "--n", "2"])
    assert (code, codes) == (0, [0, 0])
    assert capsys.readouterr().out == '{"o0": "published 20"}\n'


def test_a_rejection_from_another_shell_fails_the_sandbox_run_as_a_local_one(
    stratoflow_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _another_shell(stratoflow_home, "gated", ("approve", "deploy", "--reject")) as codes:
        code = cli.main(["run", "--sandbox", FLOWS, "gated", "--n", "4"])
    assert (code, codes) == (1, [0])
    assert "approval 'deploy' was rejected" in capsys.readouterr().err.splitlines()[0]
