"""Secrets a task requests (``@task(secret_requests=[Secret(group=, key=)])``), granted to that task's compute only.

Names follow one convention: ``Secret(group="db", key="password")`` is the Secrets Manager secret
``stratoflow/db/password`` (``protocol.secret_name``) in the stack's account and region.

- A Lambda task reads its secrets at run time (cached per container): the function that runs it (the
  shared runner, or its image's function) gets ``secretsmanager:GetSecretValue`` on exactly those
  secrets (:func:`grant_secret_reads`).
- A Fargate task's secrets are in its task definition's container ``secrets``
  (:func:`container_secrets`): ECS reads them with that task definition's own execution role and puts
  them in the container's environment (``STRATOFLOW_SECRET_<GROUP>_<KEY>``); the task role, which the
  user's code runs as, gets no Secrets Manager permission at all.
- An AWS Batch task's are its job definition's container ``secrets`` (:func:`job_secrets`), the same
  way: that job definition's own execution role reads them, the job role gets nothing.
- An actor task's are its environment's worker task definition's (``ActorPools``): the workers hold
  every secret the environment's tasks request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs._nag import acknowledge
from stratoflow import ir

__all__ = [
    "container_secrets",
    "grant_secret_reads",
    "job_secrets",
    "secret_arn",
    "secrets_execution_role",
]

# Secrets Manager appends six random characters to a secret's ARN.
_ARN_SUFFIX = "-??????"


def secret_arn(scope: Construct, name: str) -> str:
    """The ARN pattern of the secret ``name`` in ``scope``'s account and region (any version suffix)."""
    return Stack.of(scope).format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{name}{_ARN_SUFFIX}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def grant_secret_reads(role: iam.IRole, requests: Iterable[ir.SecretRequest]) -> None:
    """Let ``role`` read exactly the secrets ``requests`` name (nothing when there are none)."""
    names = sorted({request.name for request in requests})
    if not names:
        return
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ReadRequestedSecrets",
            actions=["secretsmanager:GetSecretValue"],
            resources=[secret_arn(role.stack, name) for name in names],
        )
    )


def _named_secrets(
    scope: Construct, requests: Sequence[ir.SecretRequest]
) -> dict[str, secretsmanager.ISecret]:
    """Each requested secret by its ``STRATOFLOW_SECRET_*`` variable, named (never created) in ``scope``."""
    found: dict[str, secretsmanager.ISecret] = {}
    for request in requests:
        digest = hashlib.sha256(request.name.encode()).hexdigest()[:12]
        found[request.env_var] = secretsmanager.Secret.from_secret_name_v2(
            scope, f"Secret{digest}", request.name
        )
    return found


def container_secrets(scope: Construct, requests: Sequence[ir.SecretRequest]) -> dict[str, ecs.Secret]:
    """An ECS container definition's ``secrets``: each requested secret as its ``STRATOFLOW_SECRET_*`` variable."""
    return {name: ecs.Secret.from_secrets_manager(s) for name, s in _named_secrets(scope, requests).items()}


def job_secrets(scope: Construct, requests: Sequence[ir.SecretRequest]) -> dict[str, batch.Secret]:
    """A Batch job definition's container ``secrets``, as :func:`container_secrets`."""
    return {name: batch.Secret.from_secrets_manager(s) for name, s in _named_secrets(scope, requests).items()}


def secrets_execution_role(scope: Construct, placeholder: str, what: str) -> iam.Role:
    """The execution role of one task or job definition (``placeholder``) whose tasks request
    secrets: the container definition adds image pull, logs and the read of exactly its secrets,
    so no role another definition uses can read them. ``what`` names its tasks ("Batch jobs")."""
    role = iam.Role(
        scope,
        f"{placeholder}ExecutionRole",
        assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        description=f"ECS agent for stratoflow {what} requesting secrets: image pull, logs, their secrets",
    )
    acknowledge(
        role,
        "IAM5",
        "ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are "
        "limited to the image's repository",
        finding="Resource::*",
    )
    return role
