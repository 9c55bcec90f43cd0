"""`stratoflow ui`'s command line: it prints the address it serves, and a busy port is one clear line."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request

from tests.conftest import REPO


def test_ui_serves_the_api_on_the_port_it_prints_and_stops_on_ctrl_c(subprocess_env: dict[str, str]) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "stratoflow.cli", "ui", "--port", "0"],
        cwd=REPO,
        env=subprocess_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        found = re.search(r"serving (http://127\.0\.0\.1:\d+/)", server.stdout.readline())
        assert found is not None
        with urllib.request.urlopen(f"{found.group(1)}api/runs", timeout=10) as response:  # noqa: S310 - loopback
            assert json.load(response)["runs"] == []
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert server.wait(timeout=10) == 0


def test_a_port_in_use_is_one_line_and_exit_2(subprocess_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "stratoflow.cli", "ui", "--port", str(port)],
            cwd=REPO,
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: stratoflow ui: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
