"""The CDK app (``cdk.json``: ``python infra/app.py``): one ``StratoflowStack`` from context, checked by cdk-nag.

Environment-agnostic on purpose: no account or region lookups, so ``cdk synth`` works
offline and the template deploys to any account and region (AZs come from
``Fn::GetAZs`` at deploy time).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable for ``infra.*``
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
    StratoflowStack(app, settings.stack_name, settings=settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
