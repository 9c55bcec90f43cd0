"""IR images -> Docker build contexts, and which images (and platforms) a set of workflows needs.

Used by the deployment (``infra/`` stages one context per image for a CDK Docker image asset)
and by ``stratoflow images ls | build``; staging never needs Docker.

Example:
    >>> from stratoflow.backends import image
    >>> uses = image.images_of([spec])  # doctest: +SKIP
    >>> image.stage_context(uses[0].image, sources=image.runtime_sources([]), cache_dir=tmp)  # doctest: +SKIP
"""

from stratoflow.backends.image._context import (
    CONTAINER_COMMAND,
    LAMBDA_COMMAND,
    LAMBDA_ENTRYPOINT,
    RUNTIME_REQUIREMENTS,
    ImageContext,
    ImageContextError,
    base_image,
    dockerfile,
    runtime_sources,
    stage_context,
)
from stratoflow.backends.image._plan import LAMBDA_PLATFORMS, ImageUse, images_of, task_platform

__all__ = [
    "CONTAINER_COMMAND",
    "LAMBDA_COMMAND",
    "LAMBDA_ENTRYPOINT",
    "LAMBDA_PLATFORMS",
    "RUNTIME_REQUIREMENTS",
    "ImageContext",
    "ImageContextError",
    "ImageUse",
    "base_image",
    "dockerfile",
    "images_of",
    "runtime_sources",
    "stage_context",
    "task_platform",
]
