"""Two workflows whose tasks have their own images: the app ``tests/images`` synthesizes and runs.

``TRAINER`` is used on Lambda (``prepare``, the ``score`` map) and on Fargate (``fit``), so it is
built for arm64 and x86_64; ``score`` writes the same spec again, which is the same image.
``REPORTER`` is only ``images_b``'s. ``total`` has no image (the shared zip bundle), and
``audit`` runs a prebuilt image from ECR on Fargate.
"""

from __future__ import annotations

from stratoflow import ImageSpec, Resources, map_task, task, workflow

TRAINER = ImageSpec(
    name="trainer", packages=["scikit-learn==1.5.2", "numpy==2.1.3"], apt_packages=["libgomp1"]
)
REPORTER = ImageSpec(name="reporter", packages=["jinja2==3.1.4"], python_version="3.12")
PREBUILT = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stratoflow-audit:1"
MISSING = ImageSpec(name="needs-a-module", packages=["stratoflow-no-such-package==1.0"])


@task(container_image=TRAINER)
def prepare(n: int) -> list[int]:
    return list(range(n))


@task(container_image=TRAINER, requests=Resources(cpu=4, mem="16Gi"))
def fit(xs: list[int]) -> int:
    return sum(xs)


@task(
    container_image=ImageSpec(
        name="trainer", packages=["numpy==2.1.3", "scikit-learn==1.5.2"], apt_packages=["libgomp1"]
    )
)
def score(x: int) -> int:
    return x * x


@task
def total(values: list[int]) -> int:
    return sum(values)


@task(container_image=REPORTER)
def report(fitted: int, scored: int) -> str:
    return f"fit={fitted} score={scored}"


@task(container_image=PREBUILT, compute="fargate")
def audit(text: str) -> str:
    return text.upper()


@task(container_image=MISSING)
def needs_module(x: int) -> int:
    import stratoflow_no_such_module  # noqa: F401 - the module its image would install

    return x


@workflow
def images_a(n: int = 4) -> int:
    return fit(xs=prepare(n=n))


@workflow
def images_b(n: int = 4) -> str:
    xs = prepare(n=n)
    scored = total(values=map_task(score)(x=xs))
    return audit(text=report(fitted=fit(xs=xs), scored=scored))


@workflow
def missing_module(x: int = 1) -> int:
    return needs_module(x=x)
