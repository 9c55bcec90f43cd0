"""``python infra/app.py`` as cdk.json runs it: a script whose folder holds ``infra/constructs/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import REPO


def test_app_runs_as_a_script_and_writes_the_assembly(tmp_path: Path, bundle_cache: Path) -> None:
    # The CDK CLI hands context to the app through CDK_CONTEXT_JSON; it overrides cdk.json's.
    context = {
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "app.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "Stratoflow.template.json").read_text())
    assert {"StateMachineSalesReport", "StateMachineFeatures", "StateMachineTraining"} <= set(
        template["Outputs"]
    )
