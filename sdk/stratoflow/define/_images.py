"""``ImageSpec``: a task's dependencies as an image, declared the way Flyte users write it.

``@task(container_image=ImageSpec(packages=[...]))`` (or a prebuilt image URI) gives the task
its own image: ``cdk deploy`` builds each distinct image as a Docker image asset (synth only
stages its build context), Lambda tasks with an image run as container-image functions, and
Fargate / Batch task definitions exist per (image, shape). Locally every task still runs in
the current interpreter.

The tag is a content hash of the normalised spec and of the bytes of the project files it
copies (the requirements file), so the same spec is the same image wherever it is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from stratoflow import ir
from stratoflow.define._location import caller_location, display_path
from stratoflow.errors import DefinitionError, Problem
from stratoflow.ir import _names

__all__ = ["TAG_LENGTH", "ImageSpec", "image_ref"]

TAG_LENGTH = 20
"""Hex digits of an image tag: short enough for resource names, long enough never to collide."""


def _strings(value: str | Iterable[str] | None, what: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) and item.strip() for item in items):
        problems.append(f"{what} must be non-empty strings, got {value!r}")
        return ()
    return tuple(item.strip() for item in items)


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:TAG_LENGTH]


class ImageSpec:
    """A container image for tasks: Python packages, apt packages, a base image and Python version.

    Accepts the arguments a Flyte ``ImageSpec`` takes, so Flyte files port. ``registry`` is
    accepted and ignored for deployment: ``cdk deploy`` pushes every image to the CDK
    bootstrap's own asset ECR repository, so no registry host is ever written here.
    ``platform`` and ``source_root`` are accepted and ignored too: the platform follows the
    compute target (Lambda arm64 or x86_64 per settings, Fargate and Batch x86_64), and the
    workflow modules are staged into every image as they are into the Lambda bundle.

    Args:
        name: The image's name (in ``stratoflow images ls`` and the asset's name).
        python_version: ``X.Y``; picks the default base image ``python:X.Y-slim``.
        base_image: The image to build on (it must provide ``python`` and ``pip``).
        packages: pip requirement strings.
        apt_packages: Debian packages installed with ``apt-get`` before the pip packages.
        requirements: A requirements file (relative to the working directory); its bytes are
            part of the tag.
        env: Environment variables of the image.
        commands: Shell commands run after the packages are installed.
        pip_index: pip's ``--index-url``.
        pip_extra_index_url: pip's ``--extra-index-url`` (one or several).

    Example:
        >>> spec = ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"])
        >>> spec.with_packages("skops").packages
        ('scikit-learn==1.5.2', 'skops')
        >>> len(spec.tag), spec.tag == ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"]).tag
        (20, True)
    """

    def __init__(
        self,
        name: str = "stratoflow",
        *,
        python_version: str | None = None,
        base_image: str | None = None,
        packages: str | Iterable[str] | None = None,
        apt_packages: str | Iterable[str] | None = None,
        requirements: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        commands: str | Iterable[str] | None = None,
        pip_index: str | None = None,
        pip_extra_index_url: str | Iterable[str] | None = None,
        registry: str | None = None,
        platform: str | None = None,
        source_root: str | os.PathLike[str] | None = None,
        builder: str | None = None,
    ) -> None:
        at = caller_location()
        what = f"ImageSpec '{name}'"
        problems: list[str] = []
        if not isinstance(name, str) or not name.strip():
            problems.append(f"ImageSpec: name must be a non-empty string, got {name!r}")
        for label, text in (("python_version", python_version), ("base_image", base_image)):
            if text is not None and (not isinstance(text, str) or not text.strip()):
                problems.append(f"{what}: {label} must be a non-empty string, got {text!r}")
        self.name = name
        self.python_version = python_version
        self.base_image = base_image
        self.packages = _strings(packages, f"{what}: packages", problems)
        self.apt_packages = _strings(apt_packages, f"{what}: apt_packages", problems)
        self.commands = _strings(commands, f"{what}: commands", problems)
        self.pip_extra_index_url = _strings(pip_extra_index_url, f"{what}: pip_extra_index_url", problems)
        self.pip_index = pip_index
        if env is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            problems.append(f"{what}: env must map strings to strings")
        self.env: dict[str, str] = dict(env or {})
        self.registry, self.platform, self.builder = registry, platform, builder
        self.source_root = None if source_root is None else str(source_root)
        self.requirements = None if requirements is None else str(requirements)
        self._requirements_digest = ""
        if self.requirements is not None:
            path = Path(self.requirements)
            try:
                self._requirements_digest = hashlib.sha256(path.read_bytes()).hexdigest()
                self.requirements = display_path(str(path.resolve()))
            except OSError:
                problems.append(f"{what}: requirements file not found: {self.requirements}")
        if problems:
            raise DefinitionError([Problem(p, at.path, at.line, at.col) for p in problems])

    def _normalised(self) -> dict[str, Any]:
        """What the image contains: the fields that change the built image, in canonical form."""
        return {
            "name": self.name,
            "python_version": self.python_version,
            "base_image": self.base_image,
            "packages": sorted(set(self.packages)),
            "apt_packages": sorted(set(self.apt_packages)),
            "requirements": self._requirements_digest or None,
            "env": sorted(self.env.items()),
            "commands": list(self.commands),
            "pip_index": self.pip_index,
            "pip_extra_index_url": list(self.pip_extra_index_url),
        }

    @property
    def tag(self) -> str:
        """The image's content hash: the same spec (and requirements bytes) is the same tag."""
        return _digest(self._normalised())

    def is_container(self) -> bool:
        """Whether this code runs inside this spec's built image (Flyte's guard for image-only imports).

        Example:
            >>> ImageSpec(name="x").is_container()
            False
        """
        return os.environ.get(_names.ENV_IMAGE) == self.tag

    def _with(self, **changes: Any) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update(changes)
        return clone

    def with_packages(self, packages: str | Iterable[str]) -> Self:
        """A copy with more pip packages (Flyte's ``with_packages``)."""
        problems: list[str] = []
        more = _strings(packages, f"ImageSpec '{self.name}': with_packages", problems)
        self._raise(problems)
        return self._with(packages=(*self.packages, *more))

    def with_apt_packages(self, apt_packages: str | Iterable[str]) -> Self:
        """A copy with more apt packages (Flyte's ``with_apt_packages``)."""
        problems: list[str] = []
        more = _strings(apt_packages, f"ImageSpec '{self.name}': with_apt_packages", problems)
        self._raise(problems)
        return self._with(apt_packages=(*self.apt_packages, *more))

    def with_commands(self, commands: str | Iterable[str]) -> Self:
        """A copy with more build commands (Flyte's ``with_commands``)."""
        problems: list[str] = []
        more = _strings(commands, f"ImageSpec '{self.name}': with_commands", problems)
        self._raise(problems)
        return self._with(commands=(*self.commands, *more))

    @staticmethod
    def _raise(problems: list[str]) -> None:
        if problems:
            at = caller_location()
            raise DefinitionError([Problem(p, at.path, at.line, at.col) for p in problems])

    def to_ref(self) -> ir.ImageRef:
        """The IR form of this spec (what the deployment builds)."""
        data = self._normalised()
        return ir.ImageRef(
            tag=self.tag,
            name=self.name,
            base_image=self.base_image,
            python_version=self.python_version,
            packages=tuple(data["packages"]),
            apt_packages=tuple(data["apt_packages"]),
            requirements=self.requirements,
            env=tuple((k, v) for k, v in data["env"]),
            commands=self.commands,
            pip_index=self.pip_index,
            pip_extra_index_url=self.pip_extra_index_url,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageSpec) and self._normalised() == other._normalised()

    def __hash__(self) -> int:
        return hash(self.tag)

    def __repr__(self) -> str:
        return f"ImageSpec(name={self.name!r}, packages={list(self.packages)!r}, tag={self.tag!r})"


def image_ref(value: object) -> ir.ImageRef | None:
    """The IR image of a ``container_image`` option: a URI or an ``ImageSpec``; raises ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, ImageSpec):
        return value.to_ref()
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"container_image must be a non-empty image URI or an ImageSpec, got {value!r}")
        return ir.ImageRef(tag=_digest({"uri": value.strip()}), uri=value.strip())
    raise ValueError(
        f"container_image must be an image URI (str) or an ImageSpec, got {type(value).__name__} {value!r}"
    )
