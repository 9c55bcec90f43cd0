"""Runner bundling: pip for the Lambda platform, run once per requirement set, never Docker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from infra.constructs._bundle import (
    FAKE_DEPENDENCIES_MARKER,
    BundlingError,
    DependencyBundling,
    build_container_context,
    build_lambda_bundle,
)

REQUIREMENTS = ("pydantic==2.14.4",)


class FakePip:
    """Records pip command lines and 'installs' one module into ``--target``."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.calls.append(list(command))
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic").mkdir()
        (target / "pydantic" / "__init__.py").write_text("VERSION = 'fake'\n")


@pytest.fixture
def sources(tmp_path: Path) -> list[Path]:
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("X = 1\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    module = tmp_path / "src" / "flow.py"
    module.write_text("Y = 2\n")
    return [package, module]


def test_pip_installs_lambda_platform_wheels_once(tmp_path: Path, sources: list[Path]) -> None:
    pip = FakePip()
    options = {
        "requirements": REQUIREMENTS,
        "platform": "manylinux2014_aarch64",
        "python_version": "3.12",
        "cache_dir": tmp_path / "cache",
        "pip": pip,
    }
    first = build_lambda_bundle(sources=sources, **options)  # type: ignore[arg-type]
    (command,) = pip.calls
    for flag in ("--only-binary=:all:", "--no-compile"):
        assert flag in command
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--implementation") + 1] == "cp"
    assert "docker" not in " ".join(command)
    assert (first.path / "pydantic" / "__init__.py").is_file()
    assert (first.path / "pkg" / "__init__.py").is_file()
    assert (first.path / "flow.py").read_text() == "Y = 2\n"
    assert not (first.path / "pkg" / "__pycache__").exists()

    again = build_lambda_bundle(sources=sources, **options)  # type: ignore[arg-type]
    assert again == first
    (sources[1]).write_text("Y = 3\n")
    edited = build_lambda_bundle(sources=sources, **options)  # type: ignore[arg-type]
    assert edited.content_hash != first.content_hash
    assert (edited.path / "flow.py").read_text() == "Y = 3\n"
    assert len(pip.calls) == 1, "an edit of the sources must not rerun pip"


def test_platform_is_part_of_the_cache_key(tmp_path: Path, sources: list[Path]) -> None:
    pip = FakePip()
    for platform in ("manylinux2014_aarch64", "manylinux2014_x86_64"):
        build_lambda_bundle(
            sources=sources,
            requirements=REQUIREMENTS,
            platform=platform,
            python_version="3.12",
            cache_dir=tmp_path,
            pip=pip,
        )
    assert len(pip.calls) == 2


def test_pip_failure_is_a_bundling_error_and_leaves_no_cache(tmp_path: Path, sources: list[Path]) -> None:
    def failing(command: Sequence[str]) -> None:
        raise BundlingError("pip could not install ...")

    with pytest.raises(BundlingError):
        build_lambda_bundle(
            sources=sources,
            requirements=REQUIREMENTS,
            platform="manylinux2014_aarch64",
            python_version="3.12",
            cache_dir=tmp_path,
            pip=failing,
        )
    assert list((tmp_path / "deps").iterdir()) == []


def test_fake_dependencies_never_call_pip(tmp_path: Path, sources: list[Path]) -> None:
    pip = FakePip()
    bundle = build_lambda_bundle(
        sources=sources,
        requirements=REQUIREMENTS,
        platform="manylinux2014_aarch64",
        python_version="3.12",
        cache_dir=tmp_path,
        dependencies=DependencyBundling.FAKE_FOR_TESTS,
        pip=pip,
    )
    assert pip.calls == []
    assert (bundle.path / FAKE_DEPENDENCIES_MARKER).is_file()


def test_container_context_has_dockerfile_and_sources(tmp_path: Path, sources: list[Path]) -> None:
    context = build_container_context(
        sources=sources,
        requirements=REQUIREMENTS,
        base_image="python:3.12-slim",
        command=["python", "-m", "stratoflow_functions.container_entrypoint"],
        cache_dir=tmp_path,
    )
    dockerfile = (context.path / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.12-slim" in dockerfile
    assert 'CMD ["python", "-m", "stratoflow_functions.container_entrypoint"]' in dockerfile
    assert (context.path / "requirements.txt").read_text() == "pydantic==2.14.4\n"
    assert (context.path / "flow.py").is_file()


@pytest.mark.slow
def test_real_pip_downloads_arm64_wheels(tmp_path: Path, sources: list[Path]) -> None:
    """The real pip path (needs the package index): a compiled wheel for aarch64 / CPython 3.12."""
    bundle = build_lambda_bundle(
        sources=sources,
        requirements=("pydantic-core==2.50.5",),
        platform="manylinux2014_aarch64",
        python_version="3.12",
        cache_dir=tmp_path,
    )
    (extension,) = (bundle.path / "pydantic_core").glob("_pydantic_core*.so")
    assert "cpython-312-aarch64-linux-gnu" in extension.name
