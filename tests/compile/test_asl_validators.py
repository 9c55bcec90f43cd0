"""Every golden file, and every language-construct workflow, passes both offline ASL validators
(asl-validator, AWS's language service)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stratoflow.backends import asl
from stratoflow.define import WorkflowDef
from stratoflow.lower import lower
from tests.compile.asl_cases import GOLDEN_DIR, REPO_ROOT
from tests.emulated import failure_flows, gate_flows, lang_flows

TOOLS = REPO_ROOT / "tools" / "asl"


def _node_modules() -> None:
    """Install the pinned validators from package-lock.json when they are missing."""
    if (TOOLS / "node_modules" / "asl-validator").is_dir() and (
        TOOLS / "node_modules" / "amazon-states-language-service"
    ).is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so tools/asl/node_modules cannot be installed")
    subprocess.run(
        [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund"], check=True, capture_output=True
    )


def test_golden_files_pass_the_npm_validators() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the ASL validators are npm packages")
    _node_modules()
    files = sorted(str(p) for p in GOLDEN_DIR.glob("*.asl.json"))
    assert files, "no golden files to validate"
    env = {**os.environ, "NODE_PATH": str(TOOLS / "node_modules")}
    result = subprocess.run(
        [node, str(TOOLS / "validate_asl.js"), *files], capture_output=True, text=True, env=env, check=False
    )
    failures = re.findall(r"^FAIL .*(?:\n  .*)*", result.stdout, flags=re.MULTILINE)
    assert result.returncode == 0, "ASL validators rejected:\n" + ("\n".join(failures) or result.stderr)
    assert len(re.findall(r"^OK ", result.stdout, flags=re.MULTILINE)) == len(files), result.stdout


def test_the_language_construct_workflows_pass_the_npm_validators(tmp_path: Path) -> None:
    """Conditionals (nested, with .fail()), '>>', overrides to Fargate and the new types: every
    definition the emulated tests run (tests/emulated/lang_flows.py, failure_flows.py,
    gate_flows.py) passes both
    validators too."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the ASL validators are npm packages")
    _node_modules()
    workflows = [
        w
        for module in (lang_flows, failure_flows, gate_flows)
        for w in vars(module).values()
        if isinstance(w, WorkflowDef)
    ]
    assert len(workflows) >= 16
    files = []
    for workflow in workflows:
        path = tmp_path / f"{workflow.name}.asl.json"
        path.write_text(asl.compile_workflow(lower(workflow)).definition_json(), encoding="utf-8")
        files.append(str(path))
    env = {**os.environ, "NODE_PATH": str(TOOLS / "node_modules")}
    result = subprocess.run(
        [node, str(TOOLS / "validate_asl.js"), *files], capture_output=True, text=True, env=env, check=False
    )
    failures = re.findall(r"^FAIL .*(?:\n  .*)*", result.stdout, flags=re.MULTILINE)
    assert result.returncode == 0, "ASL validators rejected:\n" + ("\n".join(failures) or result.stderr)
    assert len(re.findall(r"^OK ", result.stdout, flags=re.MULTILINE)) == len(files), result.stdout
