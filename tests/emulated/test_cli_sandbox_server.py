"""`stratoflow sandbox start`: `run --sandbox` handed to a warm server prints, exits and records
exactly what the same command run cold does; a server with other code or settings is not used."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.cli import _sandbox_client as client
from stratoflow.cli import _sandbox_wire as wire
from tests.emulated import sandbox_cli_flows as flows
from tests.emulated import sandbox_server_flows as naps
from tests.emulated._cli import NOISE, cli_process

FLOWS = flows.__name__


@pytest.fixture
def warm(subprocess_env: dict[str, str], stratoflow_home: Path) -> Iterator[dict[str, str]]:
    """A sandbox server for this test's home; stopped (and checked gone) at the end."""
    started = cli_process(subprocess_env, "sandbox", "start", "--idle-minutes", "5")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("sandbox server started (pid ")
    try:
        yield subprocess_env
    finally:
        cli_process(subprocess_env, "sandbox", "stop")
        assert not wire.socket_path(stratoflow_home).exists()


def _served_by_the_server(proc: subprocess.CompletedProcess[str], home: Path) -> None:
    assert client.status(home) is not None  # still up after the run it served
    assert "sandbox server was started with other code" not in proc.stderr


def test_a_warm_run_prints_what_a_cold_run_prints(
    subprocess_env: dict[str, str], stratoflow_home: Path, request: pytest.FixtureRequest
) -> None:
    cold = cli_process(subprocess_env, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "4")
    env = request.getfixturevalue("warm")
    hot = cli_process(env, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "4")
    assert (cold.returncode, cold.stdout) == (0, '{"o0": 8}\n')
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    _served_by_the_server(hot, stratoflow_home)
    listed = cli_process(env, "executions", "ls").stdout.splitlines()
    assert len(listed) == 2 and all(line.endswith("(sandbox)") and "SUCCEEDED" in line for line in listed)
    # The warm run kept its cache entry where cold runs keep theirs (cache ls --sandbox); the
    # server's warm-up run (in a throwaway stack) left nothing there nor in the history.
    cached = cli_process(env, "cache", "ls", "--sandbox").stdout
    assert "sandbox_cli_flows:double" in cached and "warmup" not in cached


def test_a_warm_failed_run_prints_the_users_error_and_exits_1(
    warm: dict[str, str], stratoflow_home: Path
) -> None:
    proc = cli_process(warm, "run", "--sandbox", FLOWS, "broken", "--x", "3")
    assert (proc.returncode, proc.stdout) == (1, "")
    first = proc.stderr.splitlines()[0]
    assert first.endswith("FAILED: task in node 'lookup' failed (attempt 1): KeyError: 'no column 6'")
    assert proc.stderr.endswith("KeyError: 'no column 6'\n")
    assert not any(noise in proc.stderr for noise in NOISE), proc.stderr
    _served_by_the_server(proc, stratoflow_home)


def test_a_warm_run_with_a_bad_input_says_so_and_exits_2(warm: dict[str, str], stratoflow_home: Path) -> None:
    proc = cli_process(warm, "run", "--sandbox", FLOWS, "doubled", "--x", "four")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        2,
        "",
        "error: input 'x' expects int, got 'four'\n",
    )
    _served_by_the_server(proc, stratoflow_home)


def test_a_server_started_with_other_settings_is_not_used(warm: dict[str, str]) -> None:
    proc = cli_process(
        {**warm, "STRATOFLOW_GC_FREEZE": "0"}, "run", "--sandbox", "--json", FLOWS, "doubled", "--x", "2"
    )
    assert (proc.returncode, proc.stdout) == (0, '{"o0": 4}\n')  # run here instead, as without a server
    assert proc.stderr.startswith("note: the sandbox server was started with other code or settings")
    assert (
        "has other code or settings"
        in cli_process({**warm, "AWS_DEFAULT_REGION": "x"}, "sandbox", "status").stdout
    )


def test_ctrl_c_stops_a_warm_run_as_it_stops_a_cold_one(warm: dict[str, str], stratoflow_home: Path) -> None:
    # Ctrl-C reaches the caller (the terminal's foreground process), which hands it to the child
    # running the command; the caller then ends killed by SIGINT, as the run would have in it.
    argv = ["run", "--sandbox", naps.__name__, "napping", "--seconds", "60"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "stratoflow.cli", *argv],
        env=warm,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while "RUNNING" not in cli_process(warm, "executions", "ls").stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == -signal.SIGINT
    assert err.decode().rstrip().endswith("KeyboardInterrupt")
    (line,) = cli_process(warm, "executions", "ls").stdout.splitlines()
    assert " napping " in line and "FAILED" in line
    assert client.status(stratoflow_home) is not None  # the server goes on


def test_status_and_stop(warm: dict[str, str], stratoflow_home: Path) -> None:
    assert cli_process(warm, "sandbox", "status").stdout.startswith("sandbox server running (pid ")
    assert cli_process(warm, "sandbox", "stop").stdout == "sandbox server stopped\n"
    assert cli_process(warm, "sandbox", "status").stdout == (
        "no sandbox server is running (start one: stratoflow sandbox start)\n"
    )
    assert cli_process(warm, "sandbox", "stop").stdout == "no sandbox server was running\n"


def test_an_idle_server_stops_by_itself(subprocess_env: dict[str, str], stratoflow_home: Path) -> None:
    assert cli_process(subprocess_env, "sandbox", "start", "--idle-minutes", "0.02").returncode == 0  # 1.2 s
    deadline = time.monotonic() + 30  # not pinged while waiting: a ping is a request, which resets the clock
    while wire.socket_path(stratoflow_home).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not wire.socket_path(stratoflow_home).exists()
    assert client.status(stratoflow_home) is None


def test_a_socket_path_too_long_for_unix_is_refused_in_one_line(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / ("h" * 110)
    proc = cli_process({**subprocess_env, "STRATOFLOW_HOME": str(home)}, "sandbox", "start")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: sandbox server: its socket ") and proc.stderr.count("\n") == 1
    assert "set STRATOFLOW_HOME to a shorter folder" in proc.stderr


def test_the_fingerprint_follows_settings_not_other_variables() -> None:
    base = {"HOME": "/a", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert wire.fingerprint(base) == wire.fingerprint({**base, "HOME": "/b", "TERM": "dumb"})
    assert wire.fingerprint(base) != wire.fingerprint({**base, "AWS_DEFAULT_REGION": "us-east-1"})
    assert wire.fingerprint(base) != wire.fingerprint({**base, "STRATOFLOW_CHECK_IR": "0"})
