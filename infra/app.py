"""The CDK app (``cdk.json``: ``python infra/app.py``): one ``StratoflowStack`` from context, checked by cdk-nag.

Environment-agnostic on purpose: no account or region lookups, so ``cdk synth`` works
offline and the template deploys to any account and region (AZs come from
``Fn::GetAZs`` at deploy time).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script, Python puts infra/ first on sys.path, where infra/constructs/ would
    # shadow the ``constructs`` package CDK imports: put the repo root there instead.
    _here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and str(Path(p).resolve()) != _here]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.stacks import StackSettings, StratoflowStack

__all__ = ["build_app"]


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the stratoflow stack (settings from ``app``'s context) and cdk-nag's AwsSolutions checks.

    Example:
        >>> build_app(cdk.App(context=context, outdir=str(tmp))).synth()  # doctest: +SKIP
    """
    app = app or cdk.App()
    settings = StackSettings.from_context(app.node)
    stack = StratoflowStack(app, settings.stack_name, settings=settings)
    if settings.stage:
        cdk.Tags.of(stack).add("stratoflow:stage", settings.stage)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _cdk_json_context() -> dict[str, object]:
    """``cdk.json``'s context, so ``python infra/app.py`` also works without the CDK CLI.

    Passed as the App's ``context`` prop, which context from the CLI (``cdk.json``,
    ``cdk.context.json``, ``-c``) overrides.
    """
    path = Path(__file__).resolve().parents[1] / "cdk.json"
    context: dict[str, object] = json.loads(path.read_text()).get("context", {}) if path.is_file() else {}
    return context


if __name__ == "__main__":
    build_app(cdk.App(context=_cdk_json_context())).synth()
