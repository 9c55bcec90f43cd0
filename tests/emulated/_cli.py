"""The ``stratoflow`` command in a child process, for the sandbox CLI tests, and the lines that
must never reach a user's terminal from the emulator."""

from __future__ import annotations

import subprocess
import sys

NOISE = ('"level":', "Exception=FailureEventException", "moto.", '"errorType"', '"StopCode"')
"""Marks of moto's and powertools' own output (shown only with --verbose)."""


def cli_process(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m stratoflow.cli ARGV`` with ``env``; its exit code and output, never raising."""
    return subprocess.run(
        [sys.executable, "-m", "stratoflow.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
