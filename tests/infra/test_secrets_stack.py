"""Secrets in the synthesized stack: read grants only on the roles of the tasks that request them (the
runner for a Lambda task; its task or job definition's own execution role for a Fargate or AWS Batch
task), container secrets only in the requesting task or job definition, cdk-nag and cfn-lint clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, synthesize
from tests.infra.test_stack import ALLOWED_CFN_LINT

FLOWS = REPO / "tests" / "ops" / "secret_flows.py"
STACK = "StratoflowSecrets"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    context = {
        "stratoflow:workflows": [
            f"{FLOWS}:signed_on_fargate",
            f"{FLOWS}:signed_on_gpu",
            f"{FLOWS}:signed_on_actor",
            f"{FLOWS}:not_requested",
            f"{REPO / 'tests' / 'ops' / 'secret_dynamic_flows.py'}:signed_dynamically",
        ],
        "stratoflow:stackName": STACK,
    }
    return synthesize(tmp_path_factory.mktemp("cdk-secrets"), bundle_cache, context)


def _secret_names(statement: dict[str, Any]) -> list[str]:
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    names = []
    for resource in resources:
        parts = resource["Fn::Join"][1] if isinstance(resource, dict) else [resource]
        names.append(str(parts[-1]).split(":secret:")[-1])
    return sorted(names)


def _secret_grants(synth: Synth) -> dict[str, list[str]]:
    """Role logical id -> the secrets any policy attached to it lets it read."""
    grants: dict[str, list[str]] = {}
    for policy in synth.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith("secretsmanager:") for a in actions):
                for role in policy["Properties"]["Roles"]:
                    grants.setdefault(role["Ref"], []).extend(_secret_names(statement))
    return grants


def _role_id(synth: Synth, fragment: str) -> str:
    (found,) = [k for k in synth.resources("AWS::IAM::Role") if fragment in k]
    return found


def test_only_the_requesting_tasks_roles_may_read_their_secrets(synth: Synth) -> None:
    grants = _secret_grants(synth)
    # Each workflow has its own runner (per-workflow runtimes): only signed_on_fargate's requests one.
    runner = _role_id(synth, "RuntimeSignedOnFargateRunnerRole")
    roles = synth.resources("AWS::IAM::Role")
    (fargate_execution,) = [k for k in roles if "TaskDef" in k and "sec" in k and "ExecutionRole" in k]
    (batch_execution,) = [k for k in roles if "BatchJobDef" in k and "sec" in k and "ExecutionRole" in k]
    dynamic_runner = _role_id(synth, "RuntimeSignedDynamicallyRunnerRole")
    (actor_execution,) = [k for k in roles if "Workervault" in k and "ExecutionRole" in k]
    assert grants == {
        runner: ["stratoflow/api/token-??????"],
        fargate_execution: ["stratoflow/db/password-??????"],
        batch_execution: ["stratoflow/db/password-??????"],
        actor_execution: ["stratoflow/db/password-??????"],
        # The Lambda task its @dynamic graph may call runs in its runner, which may read its secret.
        dynamic_runner: ["stratoflow/api/dyn_token-??????"],
    }
    assert _role_id(synth, "RuntimeNotRequestedRunnerRole") not in grants
    # The GPU task's runner (its cache check, its map steps) and its job role read nothing either.
    assert _role_id(synth, "RuntimeSignedOnGpuRunnerRole") not in grants
    assert _role_id(synth, "RuntimeSignedOnGpuTasksTaskRole") not in grants
    # The actor workers' own role (what their tasks run as) reads nothing either.
    assert not [k for k in grants if "WorkerRolevault" in k]
    # The Fargate task role (what user code runs as) and the shared execution role read nothing.
    assert _role_id(synth, "RuntimeSignedOnFargateTasksTaskRole") not in grants
    assert _role_id(synth, "ComputeExecutionRole") not in grants


def test_only_the_requesting_task_definition_carries_the_secret(synth: Synth) -> None:
    containers = {
        logical_id: resource["Properties"]["ContainerDefinitions"][0]
        for logical_id, resource in synth.resources("AWS::ECS::TaskDefinition").items()
    }
    with_secrets = {k: c["Secrets"] for k, c in containers.items() if c.get("Secrets")}
    # db_length's and no_secret_length's, and the vault environment's workers'.
    assert len(containers) == 3
    assert len(with_secrets) == 2 and any("Workervault" in k for k in with_secrets)
    for secrets in with_secrets.values():
        assert [s["Name"] for s in secrets] == ["STRATOFLOW_SECRET_DB_PASSWORD"]
        assert "stratoflow/db/password" in str(secrets[0]["ValueFrom"])
    # Only names reach the template, never a value: the environment lists resource names only.
    assert all("SECRET" not in str(c.get("Environment")) for c in containers.values())


def test_only_the_requesting_job_definition_carries_the_secret(synth: Synth) -> None:
    definitions = {
        logical_id: resource["Properties"]["ContainerProperties"]
        for logical_id, resource in synth.resources("AWS::Batch::JobDefinition").items()
    }
    ((logical_id, container),) = definitions.items()
    assert "_sec" in logical_id or "sec" in logical_id  # its own definition: BatchJobDef_<shape>_sec<hash>
    assert [s["Name"] for s in container["Secrets"]] == ["STRATOFLOW_SECRET_DB_PASSWORD"]
    assert "stratoflow/db/password" in str(container["Secrets"][0]["ValueFrom"])
    # Batch reads it with the definition's own execution role, not the shared one.
    (execution,) = [
        k for k in synth.resources("AWS::IAM::Role") if "BatchJobDef" in k and "ExecutionRole" in k
    ]
    assert container["ExecutionRoleArn"] == {"Fn::GetAtt": [execution, "Arn"]}
    assert "SECRET" not in str(container.get("Environment"))


def test_the_secrets_stack_is_nag_and_cfn_lint_clean(synth: Synth) -> None:
    assert_nag_clean(synth)
    assert_cfn_lint_clean(synth, ALLOWED_CFN_LINT)
