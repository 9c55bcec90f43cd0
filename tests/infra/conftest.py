"""Synthesize the real app once per session; every infra test reads that one cloud assembly.

The runner is bundled with ``fake-for-tests`` dependencies (no pip, no network) into a
session cache directory; ``test_bundle.py`` covers the pip path on its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints an end-of-life banner whenever it starts Node 20, unless the major version is
# listed here; set before the first aws_cdk import starts the jsii runtime.
_JSII_SILENCE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
os.environ[_JSII_SILENCE] = ",".join(filter(None, [os.environ.get(_JSII_SILENCE), "20"]))

# Until the dev extra includes stratoflow[cdk] and cfn-lint (see the report), say why these are skipped.
pytest.importorskip("aws_cdk", reason="the infra tests need the cdk extra: pip install -e '.[cdk]' cfn-lint")

REPO = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def bundle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk-cache")


@dataclass(frozen=True)
class Synth:
    """The synthesized app: its output directory, the stack template and the construct."""

    outdir: Path
    template: dict[str, Any]
    template_path: Path
    stack: Any

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    import aws_cdk as cdk

    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {
        **cdk_json_context(),
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    app = build_app(cdk.App(context=context, outdir=str(outdir)))
    app.synth()  # raises if cdk-nag reports an unacknowledged finding
    stack = app.node.find_child("Stratoflow")
    path = outdir / "Stratoflow.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path, stack=stack)
