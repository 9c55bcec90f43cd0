"""A ``@dynamic`` body calling a Lambda task that reads a secret: on AWS the runner runs it inside the
dynamic graph, so the stack lets the runner read that secret too. Only Lambda tasks here, so the
stack deploys no container compute for the graph."""

from __future__ import annotations

import hashlib

from stratoflow import Secret, current_context, dynamic, task, workflow

TOKEN = Secret(group="api", key="dyn_token", mount_requirement=Secret.MountType.ENV_VAR)


@task(secret_requests=[TOKEN])
def sign_one(message: str) -> str:
    token = str(current_context().secrets.get("api", "dyn_token"))
    return hashlib.sha256(f"{token}:{message}".encode()).hexdigest()


@dynamic
def sign_each(messages: list[str]) -> list[str]:
    return [sign_one(message=m) for m in messages]


@workflow
def signed_dynamically(messages: list[str]) -> list[str]:
    return sign_each(messages=messages)
