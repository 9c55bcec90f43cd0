"""Local, Docker-free bundling of the runner: sources plus pip-installed wheels, cached by content hash.

Two cache levels under one directory, so neither a synth in tests nor an edit of the
sources ever reruns pip:

- ``deps/<hash of requirements, platform, Python>/``: ``pip install --platform ...
  --only-binary=:all: --target``, run once per distinct requirement set;
- ``lambda/<hash of the above + every source file>/``: the deps (hard-linked, so a new
  bundle costs no copy) plus the sources, which is what CDK stages as the asset.

Both are built in a temporary sibling and renamed into place, so an interrupted build or
two concurrent synths never leave a half-filled directory that a later synth would trust.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from stratoflow.errors import ConfigError

__all__ = [
    "FAKE_DEPENDENCIES_MARKER",
    "Bundle",
    "BundlingError",
    "DependencyBundling",
    "PipRunner",
    "build_container_context",
    "build_lambda_bundle",
    "pip_install_command",
    "runtime_sources",
]

FAKE_DEPENDENCIES_MARKER = "STRATOFLOW_FAKE_DEPENDENCIES_FOR_TESTS.txt"
_SKIP_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")

PipRunner = Callable[[Sequence[str]], None]
"""Runs one pip command line (injected in tests to prove pip is not rerun)."""


class DependencyBundling(enum.Enum):
    """How the runner's third-party dependencies get into its bundle.

    ``PIP`` is the only mode for a deployment. ``FAKE_FOR_TESTS`` puts a marker file where
    the wheels would go, for hermetic template tests; a Lambda built that way cannot
    import pydantic, so the construct flags it with a synth warning.
    """

    PIP = "pip"
    FAKE_FOR_TESTS = "fake-for-tests"


class BundlingError(ConfigError):
    """pip could not install the runner's dependencies for the Lambda platform."""


@dataclass(frozen=True)
class Bundle:
    """A bundle directory and the content hash that names it (used as the CDK asset hash)."""

    path: Path
    content_hash: str


def runtime_sources(workflow_modules: Sequence[Path]) -> tuple[Path, ...]:
    """What the runner imports from this repo: ``stratoflow``, ``functions`` and the workflow modules.

    Workflow modules go to the bundle root under their file name, because task refs name
    them by their plain module name (``training:split``), as ``stratoflow run FILE`` does.
    """
    packages = []
    for name in ("stratoflow", "stratoflow_functions"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise BundlingError(f"cannot find the {name!r} package to bundle (is the project installed?)")
        packages.append(Path(next(iter(spec.submodule_search_locations))))
    return (*packages, *workflow_modules)


def _files(source: Path) -> Iterator[tuple[str, Path]]:
    """``(path inside the bundle, file)`` for one source, in a stable order."""
    if source.is_file():
        yield source.name, source
        return
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if not name.endswith(_SKIP_SUFFIXES):
                path = Path(root) / name
                yield f"{source.name}/{path.relative_to(source).as_posix()}", path


def _hash_sources(digest: hashlib._Hash, sources: Sequence[Path]) -> None:
    for source in sources:
        for relative, path in _files(source):
            digest.update(relative.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())


def pip_install_command(
    requirements_file: Path, target: Path, *, platform: str, python_version: str
) -> list[str]:
    """The pip command line that installs Lambda-platform wheels (never sdists, never Docker)."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--requirement",
        str(requirements_file),
        "--target",
        str(target),
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--no-compile",
        "--quiet",
        "--disable-pip-version-check",
    ]


def _run_pip(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BundlingError(
            "pip could not install the task runner's dependencies for the Lambda platform "
            f"(exit {result.returncode}):\n{result.stderr.strip()}\n"
            "A deployment needs them; only template tests may pass "
            "dependencies=DependencyBundling.FAKE_FOR_TESTS."
        )


def _publish(tmp: Path, final: Path) -> None:
    """Rename a finished build into place; a concurrent build that won the race is kept."""
    try:
        tmp.rename(final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _dependencies(
    cache_dir: Path,
    requirements: Sequence[str],
    *,
    mode: DependencyBundling,
    platform: str,
    python_version: str,
    pip: PipRunner,
) -> tuple[Path, str]:
    key = json.dumps(
        {
            "mode": mode.value,
            "requirements": list(requirements),
            "platform": platform,
            "python": python_version,
        },
        sort_keys=True,
    )
    deps_hash = hashlib.sha256(key.encode()).hexdigest()[:32]
    final = cache_dir / "deps" / deps_hash
    if final.is_dir():
        return final, deps_hash
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{deps_hash}-", dir=final.parent))
    try:
        if mode is DependencyBundling.FAKE_FOR_TESTS:
            (tmp / FAKE_DEPENDENCIES_MARKER).write_text(
                "Template tests only: the runner's pip dependencies were NOT installed.\n"
                + "".join(f"{line}\n" for line in requirements)
            )
        else:
            requirements_file = tmp.with_suffix(".requirements.txt")
            requirements_file.write_text("".join(f"{line}\n" for line in requirements))
            try:
                pip(
                    pip_install_command(
                        requirements_file, tmp, platform=platform, python_version=python_version
                    )
                )
            finally:
                requirements_file.unlink(missing_ok=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish(tmp, final)
    return final, deps_hash


def _link_tree(source: Path, dest: Path) -> None:
    """Mirror ``source`` into ``dest`` with hard links (a copy where links are not possible)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, dest, copy_function=link, dirs_exist_ok=True)


def _copy_sources(sources: Sequence[Path], dest: Path) -> None:
    for source in sources:
        for relative, path in _files(source):
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def build_lambda_bundle(
    *,
    sources: Sequence[Path],
    requirements: Sequence[str],
    platform: str,
    python_version: str,
    cache_dir: Path,
    dependencies: DependencyBundling = DependencyBundling.PIP,
    pip: PipRunner = _run_pip,
) -> Bundle:
    """The runner's code directory: wheels for ``platform`` plus ``sources``, cached by content.

    Args:
        sources: Packages and modules copied to the bundle root under their own names.
        requirements: pip requirement lines (pinned, so the cache key means one set of wheels).
        platform: pip ``--platform`` tag, e.g. ``manylinux2014_aarch64``.
        python_version: The Lambda runtime's ``X.Y``.
        cache_dir: Root of the bundle cache (created if missing).
        dependencies: ``PIP``, or ``FAKE_FOR_TESTS`` for hermetic template tests.
        pip: Runs one pip command line.

    Returns:
        The bundle directory and its content hash.

    Raises:
        BundlingError: pip failed (no matching wheel, no network and an empty cache, ...).

    Example:
        >>> bundle = build_lambda_bundle(sources=runtime_sources([Path("examples/etl.py")]),
        ...     requirements=["pydantic==2.14.4"], platform="manylinux2014_aarch64",
        ...     python_version="3.12", cache_dir=Path(".stratoflow/cdk-cache"))  # doctest: +SKIP
    """
    deps, deps_hash = _dependencies(
        cache_dir, requirements, mode=dependencies, platform=platform, python_version=python_version, pip=pip
    )
    digest = hashlib.sha256(deps_hash.encode())
    _hash_sources(digest, sources)
    bundle_hash = digest.hexdigest()[:32]
    final = cache_dir / "lambda" / bundle_hash
    if not final.is_dir():
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{bundle_hash}-", dir=final.parent))
        try:
            _link_tree(deps, tmp)
            _copy_sources(sources, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _publish(tmp, final)
    return Bundle(final, bundle_hash)


_DOCKERFILE = """\
# Generated by infra/constructs/_bundle.py: the Fargate image of the stratoflow task runner.
ARG BASE_IMAGE={base_image}
FROM ${{BASE_IMAGE}}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --requirement requirements.txt
COPY . ./
USER 1000:1000
CMD {command}
"""


def build_container_context(
    *,
    sources: Sequence[Path],
    requirements: Sequence[str],
    base_image: str,
    command: Sequence[str],
    cache_dir: Path,
) -> Bundle:
    """A Docker build context (Dockerfile, requirements, sources) for the Fargate container.

    The image is built by ``cdk deploy`` (asset publishing), never at synth: the build
    context is all synth needs, so offline synth and tests work without Docker.
    """
    dockerfile = _DOCKERFILE.format(base_image=base_image, command=json.dumps(list(command)))
    requirements_text = "".join(f"{line}\n" for line in requirements)
    digest = hashlib.sha256((dockerfile + "\0" + requirements_text).encode())
    _hash_sources(digest, sources)
    context_hash = digest.hexdigest()[:32]
    final = cache_dir / "container" / context_hash
    if not final.is_dir():
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{context_hash}-", dir=final.parent))
        try:
            (tmp / "Dockerfile").write_text(dockerfile)
            (tmp / "requirements.txt").write_text(requirements_text)
            _copy_sources(sources, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _publish(tmp, final)
    return Bundle(final, context_hash)
