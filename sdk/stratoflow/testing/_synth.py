"""Synthesize the project's CDK app in a subprocess, once per process and context, as ``cdk synth`` does."""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stratoflow import errors

__all__ = ["synth_app"]

_SYNTH_CACHE: dict[tuple[str, str], Path] = {}
_SYNTH_LOCK = threading.Lock()


def synth_app(project_dir: Path, context: Mapping[str, Any] | None = None) -> Path:
    """Synthesize the CDK app of ``project_dir`` (its ``cdk.json``) once per process; return cdk.out.

    Runs ``cdk.json``'s ``app`` command in a subprocess, as the CDK CLI does (``CDK_OUTDIR``,
    ``CDK_CONTEXT_JSON``), with ``python`` meaning this interpreter. The SDK itself never
    imports the CDK app or ``aws_cdk``. ``context`` overrides ``cdk.json``'s context.

    Example:
        >>> outdir = synth_app(Path("."), TEST_CONTEXT)  # doctest: +SKIP
    """
    project_dir = project_dir.resolve()
    key = (str(project_dir), json.dumps(dict(context or {}), sort_keys=True))
    with _SYNTH_LOCK:
        if key in _SYNTH_CACHE:
            return _SYNTH_CACHE[key]
        command = shlex.split(json.loads((project_dir / "cdk.json").read_text())["app"])
        if command[0] in {"python", "python3"}:
            command[0] = sys.executable
        work = Path(tempfile.mkdtemp(prefix="stratoflow-synth-"))
        atexit.register(shutil.rmtree, work, ignore_errors=True)
        env = {
            **os.environ,
            "CDK_OUTDIR": str(work / "cdk.out"),
            "CDK_CONTEXT_JSON": json.dumps(
                {"stratoflow:bundleCacheDir": str(work / "bundle-cache"), **dict(context or {})}
            ),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
        done = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - the project's own app command
        if done.returncode != 0:
            raise errors.ConfigError(f"cdk synth ({shlex.join(command)}) failed:\n{done.stderr[-4000:]}")
        _SYNTH_CACHE[key] = work / "cdk.out"
        return _SYNTH_CACHE[key]
