"""``TaskImages``: one CDK Docker image asset per (task image, platform); prebuilt URIs used as given.

Each ``ImageSpec`` image's build context is staged at synth (``stratoflow.backends.image``: a
generated Dockerfile, its pip requirement files, the stratoflow sources and the workflow
modules); ``cdk deploy`` builds it and pushes it to the bootstrap's asset repository, so
synth never needs Docker. The platform is part of the asset (Lambda arm64 by default,
Fargate and Batch x86_64), so one spec used on both is two assets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._props import raise_if_problems
from stratoflow import ir
from stratoflow.backends import image as backend

__all__ = ["ECR_URI", "TaskImages"]

_PLATFORMS = {"linux/amd64": ecr_assets.Platform.LINUX_AMD64, "linux/arm64": ecr_assets.Platform.LINUX_ARM64}
ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))$"
)
"""A private ECR image URI: the only kind a Lambda function can run."""


class TaskImages(Construct):
    """The stack's task images: Docker image assets made on first use, one per (tag, platform).

    Attributes:
        assets: The Docker image asset per ``(tag, platform)``.
        contexts: The staged build context directory per tag (for inspection and tests).

    Example:
        >>> images = TaskImages(stack, "Images", workflow_modules=[Path("flows.py")],
        ...     cache_dir=Path(".stratoflow/cdk-cache"))  # doctest: +SKIP
        >>> images.container_image(task.image)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflow_modules: Sequence[Path],
        cache_dir: Path = Path(defaults.BUNDLE_CACHE_DIR),
    ) -> None:
        super().__init__(scope, construct_id)
        self._sources = backend.runtime_sources(workflow_modules)
        self._cache_dir = cache_dir
        self.assets: dict[tuple[str, str], ecr_assets.DockerImageAsset] = {}
        self.contexts: dict[str, Path] = {}

    def asset(self, image: ir.ImageRef, platform: str) -> ecr_assets.DockerImageAsset:
        """The Docker image asset of an ``ImageSpec`` image for ``platform`` (``linux/amd64`` ...)."""
        key = (image.tag, platform)
        if key not in self.assets:
            context = backend.stage_context(image, sources=self._sources, cache_dir=self._cache_dir)
            self.contexts[image.tag] = context.path
            self.assets[key] = ecr_assets.DockerImageAsset(
                self,
                f"Image_{image.tag}_{platform.rsplit('/', 1)[-1]}",
                directory=str(context.path),
                platform=_PLATFORMS[platform],
                display_name=f"stratoflow image {image.name} ({platform})",
            )
        return self.assets[key]

    def container_image(self, image: ir.ImageRef) -> ecs.ContainerImage:
        """The image of a Fargate task or Batch job definition (x86_64).

        A prebuilt ECR image is pulled with a grant on its repository only (the execution role's
        pull rights); any other registry's is pulled as a public image.
        """
        if image.uri is None:
            return ecs.ContainerImage.from_docker_image_asset(self.asset(image, "linux/amd64"))
        match = ECR_URI.match(image.uri)
        if match is None:
            return ecs.ContainerImage.from_registry(image.uri)
        return ecs.ContainerImage.from_ecr_repository(
            self._repository(image, match), match["tag"] or match["digest"]
        )

    def _repository(self, image: ir.ImageRef, match: re.Match[str]) -> ecr.IRepository:
        found = self.node.try_find_child(f"Repository_{image.tag}")
        if found is not None:
            return cast("ecr.IRepository", found)
        arn = Stack.of(self).format_arn(
            service="ecr",
            account=match["account"],
            region=match["region"],
            resource="repository",
            resource_name=match["repository"],
        )
        return ecr.Repository.from_repository_attributes(
            self, f"Repository_{image.tag}", repository_arn=arn, repository_name=match["repository"]
        )

    def lambda_code(self, image: ir.ImageRef, architecture: defaults.Architecture) -> lambda_.DockerImageCode:
        """The code of an image's container-image Lambda function (the runner handler, through the RIC)."""
        command, entrypoint = list(backend.LAMBDA_COMMAND), list(backend.LAMBDA_ENTRYPOINT)
        if image.uri is None:
            asset = self.asset(image, backend.LAMBDA_PLATFORMS[architecture])
            return lambda_.DockerImageCode.from_ecr(
                asset.repository, tag_or_digest=asset.image_tag, cmd=command, entrypoint=entrypoint
            )
        match = ECR_URI.match(image.uri)
        if match is None:
            raise_if_problems(
                "TaskImages",
                [
                    f"image {image.uri}: a Lambda function runs images from a private ECR repository only; "
                    "push it to ECR, or route its tasks to Fargate (compute='fargate')"
                ],
            )
        assert match is not None  # noqa: S101 - raise_if_problems raised otherwise
        return lambda_.DockerImageCode.from_ecr(
            self._repository(image, match),
            tag_or_digest=match["tag"] or match["digest"],
            cmd=command,
            entrypoint=entrypoint,
        )
