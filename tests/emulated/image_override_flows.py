"""A call whose image comes from ``with_overrides(container_image=...)`` (tests/emulated/test_image_override_e2e.py)."""

from __future__ import annotations

from stratoflow import ImageSpec, Resources, task, workflow

OVERRIDE = ImageSpec(name="override", packages=["tabulate==0.9.0"])


@task
def plain(x: int) -> int:
    return x + 1


@task(requests=Resources(cpu=4, mem="16Gi"))
def sized(x: int) -> int:
    return x * 10


@workflow
def overridden(x: int) -> int:
    first = plain(x=x).with_overrides(container_image=OVERRIDE)
    return sized(x=plain(x=first)).with_overrides(container_image=OVERRIDE)
