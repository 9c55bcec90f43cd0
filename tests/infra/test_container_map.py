"""A stack whose workflows map over container tasks (Fargate Spot, AWS Batch GPU).

The Distributed Map's STANDARD children run each batch as ``ecs:runTask.sync`` /
``batch:submitJob.sync`` under the workflow's own role, so the stack creates the task and job
definitions of the mapped tasks' shapes, and the role may run exactly those, manage its own
map children and the ``.sync`` EventBridge rules; cdk-nag and cfn-lint stay clean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, _as_list, _statements

CASES = REPO / "tests" / "compile" / "cases"
STACK = "StratoflowContainerMaps"


@pytest.fixture(scope="module")
def map_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-container-maps")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [
            f"{CASES / 'map_fargate_spot.py'}:map_fargate_spot",
            f"{CASES / 'map_batch.py'}:map_batch",
        ],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _role_statements(synth: Synth, prefix: str) -> dict[str, dict[str, Any]]:
    return {
        s["Sid"]: s for logical_id, s in _statements(synth) if logical_id.startswith(prefix) and "Sid" in s
    }


def test_task_and_job_definitions_exist_for_the_mapped_shapes_only(map_synth: Synth) -> None:
    (task_definition,) = map_synth.resources("AWS::ECS::TaskDefinition").values()
    assert task_definition["Properties"]["Memory"] == "12288"
    (job_definition,) = map_synth.resources("AWS::Batch::JobDefinition").values()
    requirements = job_definition["Properties"]["ContainerProperties"]["ResourceRequirements"]
    assert {"Type": "GPU", "Value": "1"} in requirements


def test_the_fargate_map_role_runs_its_task_definition_and_manages_its_children(map_synth: Synth) -> None:
    statements = _role_statements(map_synth, "WorkflowMapFargateSpot")
    assert _as_list(statements["RunTaskDefinitions"]["Action"]) == ["ecs:RunTask"]
    assert "ecs:StopTask" in _as_list(statements["WatchClusterTasks"]["Action"])
    assert "iam:PassRole" in _as_list(statements["PassTaskRoles"]["Action"])
    assert _as_list(statements["ManageMapChildren"]["Action"]) == [
        "states:DescribeExecution",
        "states:StopExecution",
    ]
    assert "StepFunctionsGetEventsForECSTaskRule" in json.dumps(statements["SyncEventsRule"]["Resource"])
    assert "SubmitBatchJobs" not in statements


def test_the_gpu_map_role_submits_to_its_queues_and_manages_its_children(map_synth: Synth) -> None:
    statements = _role_statements(map_synth, "WorkflowMapBatch")
    assert _as_list(statements["SubmitBatchJobs"]["Action"]) == ["batch:SubmitJob"]
    assert _as_list(statements["ManageMapChildren"]["Action"]) == [
        "states:DescribeExecution",
        "states:StopExecution",
    ]
    assert "RunTaskDefinitions" not in statements


def test_cdk_nag_found_nothing_unacknowledged(map_synth: Synth) -> None:
    assert_nag_clean(map_synth)


def test_cfn_lint_passes(map_synth: Synth) -> None:
    assert_cfn_lint_clean(map_synth, ALLOWED_CFN_LINT)
