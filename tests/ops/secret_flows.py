"""Workflows that read secrets: a cached Lambda-sized task, a Fargate-sized one, a GPU one (AWS
Batch), an actor task, and one that fails quoting its secret (the runner must mask it)."""

from __future__ import annotations

import hashlib

from stratoflow import ActorEnvironment, Resources, Secret, current_context, task, workflow

TOKEN = Secret(group="api", key="token", mount_requirement=Secret.MountType.ENV_VAR)
DB = Secret(group="db", key="password", mount_requirement=Secret.MountType.FILE)


@task(secret_requests=[TOKEN], cache=True, cache_version="1")
def sign(message: str) -> str:
    """A digest keyed by the secret: proves the task read it, without returning it."""
    token = str(current_context().secrets.get("api", "token"))
    current_context().logging.info("signing with token %s", token)
    print(f"token={token}")  # a careless print: stdout is the task's log
    return hashlib.sha256(f"{token}:{message}".encode()).hexdigest()


@task(secret_requests=[DB], requests=Resources(cpu=8, mem="32Gi"))
def db_length() -> int:
    return len(current_context().secrets.get("db", "password"))


@task(secret_requests=[DB], requests=Resources(gpu=1))
def gpu_db_length() -> int:
    """On AWS Batch (a GPU): its job definition holds the secret."""
    return len(current_context().secrets.get("db", "password"))


@task(requests=Resources(cpu=8, mem="32Gi"))
def no_secret_length(text: str) -> int:
    """Fargate-sized like db_length, requesting nothing: its task definition holds no secret."""
    return len(text)


@task(secret_requests=[TOKEN])
def leak(message: str) -> str:
    token = current_context().secrets.get("api", "token")
    raise ValueError(f"refusing {message} with token {token!s}")


@task
def unrequested() -> str:
    return str(current_context().secrets.get("api", "token"))


@workflow
def signed(message: str = "hello") -> str:
    return sign(message=message)


@workflow
def signed_on_fargate(message: str = "hello") -> tuple[str, int, int]:
    return sign(message=message), db_length(), no_secret_length(text=message)


@workflow
def signed_on_gpu() -> int:
    return gpu_db_length()


vault = ActorEnvironment(name="vault", replica_count=1, ttl_seconds=5)


@vault.task(secret_requests=[DB])
def actor_db_length() -> int:
    """On the vault environment's workers: their task definition holds the secret."""
    return len(current_context().secrets.get("db", "password"))


@workflow
def signed_on_actor() -> int:
    return actor_db_length()


@task(secret_requests=[Secret(group="absent", key="token")], requests=Resources(gpu=1))
def gpu_absent_length() -> int:
    """Requests a secret nobody created: on AWS Batch its job never starts."""
    return len(current_context().secrets.get("absent", "token"))


@workflow
def absent_on_gpu() -> int:
    return gpu_absent_length()


@workflow
def leaky(message: str = "hello") -> str:
    return leak(message=message)


@workflow
def not_requested() -> str:
    return unrequested()
