"""The @dynamic interpreter state machine: sound, deterministic, and accepted by both npm validators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stratoflow.backends import asl
from stratoflow.backends.asl import _checks, _dynamic
from tests.compile.test_asl_validators import TOOLS, _node_modules


def test_the_interpreter_loops_dag_next_and_an_inline_map() -> None:
    definition = asl.interpreter_definition()
    assert _checks.check_definition(definition) == []
    states = definition["States"]
    assert states["run_nodes"]["Next"] == "next"
    assert states["run_nodes"]["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert states["run_nodes"]["MaxConcurrency"] == _dynamic.DAG_CONCURRENCY
    text = json.dumps(definition)
    assert "${TaskRunnerFunctionArn}" in text and text.count("${") == 2  # the only placeholder, twice
    assert asl.interpreter_definition() == definition


def test_the_interpreter_passes_the_npm_validators(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the ASL validators are npm packages")
    _node_modules()
    path = tmp_path / "interpreter.asl.json"
    path.write_text(json.dumps(asl.interpreter_definition(), indent=2, sort_keys=True))
    env = {**os.environ, "NODE_PATH": str(TOOLS / "node_modules")}
    result = subprocess.run(
        [node, str(TOOLS / "validate_asl.js"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK "), result.stdout
