"""Synthesize the real app (cdk.json) in-process with test-only runner dependencies.

The runner is bundled with ``fake-for-tests`` dependencies (no pip, no network) into a
cache directory; ``test_bundle.py`` covers the pip path on its own.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii prints an end-of-life banner whenever it starts Node 20, unless the major version is
# listed here; set before the first aws_cdk import starts the jsii runtime.
_JSII_SILENCE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
os.environ[_JSII_SILENCE] = ",".join(filter(None, [os.environ.get(_JSII_SILENCE), "20"]))

REPO = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
    return context


@dataclass(frozen=True)
class Synth:
    """The synthesized app: its output directory (cloud assembly) and the stack template."""

    outdir: Path
    template: dict[str, Any]
    template_path: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def runner_asset(self) -> Path:
        """The staged runner Lambda bundle (the asset holding the handler that is not a Docker context)."""
        found = [
            d
            for d in self.outdir.glob("asset.*")
            if (d / "stratoflow_functions" / "task_runner.py").is_file() and not (d / "Dockerfile").is_file()
        ]
        if len(found) != 1:
            raise LookupError(f"expected one runner asset in {self.outdir}, found {found}")
        return found[0]


IMAGE_FLOWS = REPO / "tests" / "images" / "image_flows.py"
IMAGE_APP: dict[str, Any] = {
    "stratoflow:workflows": [f"{IMAGE_FLOWS}:images_a", f"{IMAGE_FLOWS}:images_b"],
    "stratoflow:stackName": "StratoflowImages",
}
"""The second app of a session: workflows whose tasks have their own images (``tests/images``)."""


def load(outdir: Path, stack_name: str = "Stratoflow") -> Synth:
    path = outdir / f"{stack_name}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def synthesize_once(base: Path, name: str = "cdk-assembly", context: dict[str, Any] | None = None) -> Synth:
    """Synthesize into ``base/<name>`` unless another pytest-xdist worker of this
    session already did: the first worker to take the lock synthesizes, the others wait
    for it and read the same cloud assembly. ``context`` overrides cdk.json's."""
    outdir = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (outdir / ".complete").is_file():
            synthesize(outdir, base / "cdk-bundle-cache", context)
            (outdir / ".complete").touch()
    return load(outdir, str((context or {}).get("stratoflow:stackName", "Stratoflow")))


def synthesize(outdir: Path, bundle_cache: Path, overrides: dict[str, Any] | None = None) -> Synth:
    """Build and synthesize the app; raises if cdk-nag reports an unacknowledged finding."""
    import aws_cdk as cdk

    from infra.app import build_app

    context = {
        **cdk_json_context(),
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
        **(overrides or {}),
    }
    app = build_app(cdk.App(context=context, outdir=str(outdir)))
    app.synth()
    return load(outdir, str(context.get("stratoflow:stackName", "Stratoflow")))


def assert_nag_clean(synth: Synth) -> None:
    """cdk-nag's report for the synthesized app: success, no unacknowledged finding."""
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []


def assert_cfn_lint_clean(synth: Synth, allowed: set[str]) -> None:
    """cfn-lint on the synthesized template finds nothing but the ``allowed`` rule ids."""
    import shutil
    import subprocess
    import sys

    beside_python = Path(sys.executable).parent / "cfn-lint"
    binary = str(beside_python) if beside_python.is_file() else shutil.which("cfn-lint")
    assert binary, "cfn-lint is not installed (pip install cfn-lint==1.58.0)"
    result = subprocess.run(
        [binary, "--format", "json", str(synth.template_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode in (0, 4), result.stderr
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["Rule"]["Id"] not in allowed] == []
