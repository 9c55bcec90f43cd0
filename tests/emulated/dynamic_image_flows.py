"""``@dynamic`` bodies calling a Lambda task with an image of its own: what the deployed-stack test
(``test_dynamic_images_e2e.py``) and the infra test (``tests/infra/test_dynamic_images.py``) synthesize.

``scaled`` (image ``SCALER``, on Lambda) and ``scaled_big`` (``SCALER``, on Fargate) are this module's,
so the stack deploys ``SCALER``'s function and its generic task definition for the dynamic graphs of
its workflows; ``elsewhere.report`` (image ``REPORTER``) is another module's,
imported as a module, so the stack does not scan it and a graph calling it fails at plan time.
"""

from __future__ import annotations

from stratoflow import ImageSpec, Resources, dynamic, task, workflow
from tests.images import image_flows as elsewhere  # a module, not its tasks: not scanned at synth

SCALER = ImageSpec(name="dyn-scaler", packages=["numpy==2.1.3"])


@task(container_image=SCALER)
def scaled(x: int) -> int:
    return x * 10


@task(container_image=SCALER, requests=Resources(mem="12Gi"))
def scaled_big(x: int) -> int:
    return x * 100


@task
def total(values: list[int]) -> int:
    return sum(values)


@dynamic
def scale_all(xs: list[int]) -> int:
    return total(values=[scaled(x=x) for x in xs])


@workflow
def dynamic_images(xs: list[int]) -> int:
    return scale_all(xs=xs)


@dynamic(container_image=SCALER)
def scale_in_image(xs: list[int]) -> int:
    # Planned in SCALER's function (the body runs in its image), dispatched by the shared runner.
    return total(values=[scaled(x=x) for x in xs])


@workflow
def dynamic_in_image(xs: list[int]) -> int:
    return scale_in_image(xs=xs)


@dynamic
def reports_elsewhere(n: int) -> str:
    return elsewhere.report(fitted=n, scored=n)


@workflow
def dynamic_elsewhere(n: int) -> str:
    return reports_elsewhere(n=n)


@dynamic
def scale_on_both(xs: list[int]) -> int:
    return total(values=[scaled(x=x) for x in xs] + [scaled_big(x=x) for x in xs])


@workflow
def dynamic_on_fargate(xs: list[int]) -> int:
    return scale_on_both(xs=xs)
