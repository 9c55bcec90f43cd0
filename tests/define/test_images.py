"""``ImageSpec`` and ``container_image=``: tags, the IR they record, and their definition errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stratoflow import ActorEnvironment, DefinitionError, ImageSpec, ir, task, workflow
from stratoflow.define._location import display_path
from stratoflow.ir import protocol
from stratoflow.lower import lower

HERE = display_path(__file__)


def _line(marker: str) -> int:
    """The line of this file holding ``marker`` (so the asserted line follows edits)."""
    return next(i for i, text in enumerate(Path(__file__).read_text().splitlines(), 1) if marker in text)


def test_the_same_spec_is_the_same_tag_and_a_different_one_is_not() -> None:
    a = ImageSpec(name="trainer", packages=["scikit-learn==1.5.2", "numpy"])
    b = ImageSpec(name="trainer", packages=["numpy", "scikit-learn==1.5.2", "numpy"])  # order, duplicates
    c = ImageSpec(name="trainer", packages=["scikit-learn==1.5.1", "numpy"])
    assert a.tag == b.tag and a == b
    assert a.tag != c.tag
    assert a.tag != a.with_apt_packages("libgomp1").tag
    assert len(a.tag) == 20 and int(a.tag, 16) >= 0


def test_fields_that_do_not_change_the_image_do_not_change_the_tag() -> None:
    # registry: CDK pushes to its own asset repository; platform: the compute target decides.
    plain = ImageSpec(name="x", packages=["a"])
    ported = ImageSpec(
        name="x", packages=["a"], registry="ghcr.io/me", platform="linux/arm64", builder="envd"
    )
    assert plain.tag == ported.tag


def test_the_requirements_bytes_are_part_of_the_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("pandas==2.2.3\n")
    first = ImageSpec(name="x", requirements="requirements.txt")
    Path("requirements.txt").write_text("pandas==2.2.2\n")
    second = ImageSpec(name="x", requirements="requirements.txt")
    assert first.tag != second.tag
    assert second.to_ref().requirements == "requirements.txt"


def test_with_helpers_return_copies() -> None:
    base = ImageSpec(name="x", packages="a")
    more = base.with_packages(["b", "c"]).with_apt_packages("git").with_commands("echo hi")
    assert base.packages == ("a",) and base.apt_packages == ()
    assert more.packages == ("a", "b", "c")
    assert (more.apt_packages, more.commands) == (("git",), ("echo hi",))


def test_is_container_reads_the_tag_the_image_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ImageSpec(name="x", packages=["a"])
    assert not spec.is_container()
    monkeypatch.setenv(protocol.ENV_IMAGE, spec.tag)
    assert spec.is_container()
    assert not spec.with_packages("b").is_container()


SPEC = ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"], apt_packages=["libgomp1"], env={"A": "1"})


@task(container_image=SPEC)
def train(x: int) -> int:
    return x


@task(container_image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/me:1")
def prebuilt(x: int) -> int:
    return x


@task
def plain(x: int) -> int:
    return x


def test_a_task_records_its_image_in_the_ir() -> None:
    image = train.spec.image
    assert image is not None
    assert (image.tag, image.name, image.packages, image.apt_packages) == (
        SPEC.tag,
        "trainer",
        ("scikit-learn==1.5.2",),
        ("libgomp1",),
    )
    assert image.env == (("A", "1"),)
    assert prebuilt.spec.image is not None
    assert prebuilt.spec.image.uri == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/me:1"
    assert protocol.is_image_function(protocol.image_function(prebuilt.spec.image.tag))
    assert plain.spec.image is None
    assert ir.TaskSpec.model_validate_json(train.spec.model_dump_json()) == train.spec


def test_with_overrides_sets_the_image_of_one_call() -> None:
    other = ImageSpec(name="other", packages=["polars"])

    @workflow
    def wf(x: int) -> int:
        return plain(x=train(x=x)).with_overrides(container_image=other)

    spec = lower(wf)
    images = {node.id: spec.tasks[node.task].image for node in spec.nodes}
    assert images["train"] is not None and images["train"].tag == SPEC.tag
    assert images["plain"] is not None and images["plain"].tag == other.tag


def test_an_actor_environment_passes_its_image_to_its_tasks() -> None:
    env = ActorEnvironment(name="imaged", container_image=SPEC)

    @env.task
    def scored(x: int) -> int:
        return x

    assert scored.spec.image is not None and scored.spec.image.tag == SPEC.tag


def test_a_bad_container_image_is_one_error_at_the_decorator() -> None:
    with pytest.raises(DefinitionError) as raised:

        @task(container_image=3)  # type: ignore[call-overload]  # marker: bad-image
        def bad(x: int) -> int:
            return x

    assert str(raised.value) == (
        f"{HERE}:{_line('marker: bad-image')}:10: error: task 'bad': container_image must be an image URI "
        "(str) or an ImageSpec, got int 3"
    )
    with pytest.raises(DefinitionError, match=r"container_image must be a non-empty image URI"):

        @task(container_image="")
        def empty(x: int) -> int:
            return x


def test_a_missing_requirements_file_is_an_error_at_the_spec() -> None:
    with pytest.raises(DefinitionError) as raised:
        ImageSpec(name="x", requirements="no-such-requirements.txt")  # marker: missing-reqs
    assert str(raised.value) == (
        f"{HERE}:{_line('marker: missing-reqs')}:9: error: ImageSpec 'x': requirements file not found: "
        "no-such-requirements.txt"
    )


def test_bad_packages_are_an_error_at_the_spec() -> None:
    with pytest.raises(
        DefinitionError, match=r"ImageSpec 'x': packages must be non-empty strings, got \[1\]"
    ):
        ImageSpec(name="x", packages=[1])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("build", "written", "message"),
    [
        (lambda: ImageSpec(name=""), 'name=""', "ImageSpec: name must be a non-empty string, got ''"),
        (
            lambda: ImageSpec(name="x", python_version=""),
            "python_version=",
            "ImageSpec 'x': python_version must be a non-empty string, got ''",
        ),
        (
            lambda: ImageSpec(name="x", base_image=" "),
            "base_image=",
            "ImageSpec 'x': base_image must be a non-empty string, got ' '",
        ),
        (
            lambda: ImageSpec(name="x", env={"A": 1}),  # type: ignore[dict-item]
            "env=",
            "ImageSpec 'x': env must map strings to strings",
        ),
        (
            lambda: ImageSpec(name="x", apt_packages=[""]),
            "apt_packages=",
            "ImageSpec 'x': apt_packages must be non-empty strings, got ['']",
        ),
        (
            lambda: ImageSpec(name="x").with_packages([2]),  # type: ignore[list-item]
            "with_packages(",
            "ImageSpec 'x': with_packages must be non-empty strings, got [2]",
        ),
    ],
)
def test_each_bad_spec_is_one_error_at_the_line_that_writes_it(
    build: Any, written: str, message: str
) -> None:
    with pytest.raises(DefinitionError) as raised:
        build()
    (problem,) = raised.value.problems
    assert str(raised.value) == f"{HERE}:{problem.line}:{problem.col}: error: {message}"
    assert written in Path(__file__).read_text().splitlines()[problem.line - 1]
