"""Stages: ``-c stratoflow:stage=STAGE`` synthesizes ``<stack>-<stage>``, a separate stack whose physical
names share nothing with another stage's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.constructs import PropsError
from infra.stacks import StackSettings
from tests.infra.synth import REPO, Synth, cdk_json_context, load

EXAMPLE = REPO / "examples" / "scheduled.py"
# A schedule group, log groups and a dynamic interpreter: every kind of physical name the stack sets.
WORKFLOWS = [f"{EXAMPLE}:nightly_report", f"{REPO / 'examples' / 'features.py'}:features"]


# Properties that name a resource uniquely in an account and region (what two stages could collide on).
_PHYSICAL = {
    "AlarmName", "BucketName", "ClusterName", "ComputeEnvironmentName", "FunctionName", "JobDefinitionName",
    "JobQueueName", "LogGroupName", "QueueName", "RepositoryName", "RoleName", "StateMachineName",
    "TableName", "TopicName",
}  # fmt: skip
_NAMED_TYPES = ("AWS::Scheduler::", "AWS::Events::", "AWS::SSM::Parameter")  # their "Name" is physical


def _names(template: dict[str, Any]) -> set[str]:
    """Every literal physical name the template sets."""
    found = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        keys = set(_PHYSICAL) | ({"Name"} if resource["Type"].startswith(_NAMED_TYPES) else set())
        found |= {str(props[k]) for k in keys if isinstance(props.get(k), str)}
    return found


def _synth_stage(outdir: Path, bundle_cache: Path, stage: str) -> Synth:
    import aws_cdk as cdk

    from infra.app import build_app

    context = {
        **cdk_json_context(),
        "stratoflow:workflows": WORKFLOWS,
        "stratoflow:stage": stage,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    return load(outdir, f"Stratoflow-{stage}")


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> dict[str, Synth]:
    return {
        stage: _synth_stage(tmp_path_factory.mktemp(f"cdk-{stage}"), bundle_cache, stage)
        for stage in ("dev", "prod")
    }


def test_each_stage_is_its_own_stack_named_after_it(stages: dict[str, Synth]) -> None:
    assert {stage: synth.template_path.name for stage, synth in stages.items()} == {
        "dev": "Stratoflow-dev.template.json",
        "prod": "Stratoflow-prod.template.json",
    }
    manifest = json.loads((stages["prod"].outdir / "manifest.json").read_text())
    stacks = [a for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    assert [s["properties"].get("stackName", s["displayName"]) for s in stacks] == ["Stratoflow-prod"]
    assert {"Key": "stratoflow:stage", "Value": "prod"} in stages["prod"].resources(
        "AWS::S3::Bucket"
    ).popitem()[1]["Properties"]["Tags"]


def test_two_stages_share_no_physical_name(stages: dict[str, Synth]) -> None:
    dev, prod = (_names(stages[s].template) for s in ("dev", "prod"))
    assert dev and prod
    assert any("Stratoflow-prod" in name for name in prod)  # the names are the stage's
    assert dev & prod == set()


def test_a_bad_stage_is_a_context_error() -> None:
    with pytest.raises(PropsError, match="context 'stratoflow:stage': stage 'a b' must be 1-32 letters"):
        StackSettings.from_context({**cdk_json_context(), "stratoflow:stage": "a b"})
