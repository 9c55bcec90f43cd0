"""``stratoflow images ls | build``: what a workflow's images are, and their staged build contexts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stratoflow.backends import image
from stratoflow.cli import main
from tests.images import image_flows

FLOWS = str(Path(image_flows.__file__).resolve())


def test_ls_lists_each_image_once_with_its_tasks_platforms_and_packages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["images", "ls", FLOWS, "images_b"]) == 0
    lines = capsys.readouterr().out.splitlines()
    trainer = image_flows.TRAINER.tag
    assert [line.split()[0] for line in lines] == sorted(
        [trainer, image_flows.REPORTER.tag, image_flows.audit.spec.image.tag]  # type: ignore[union-attr]
    )
    (line,) = [line for line in lines if line.startswith(trainer)]
    assert line == (
        f"{trainer}  trainer  platforms: linux/amd64,linux/arm64  "
        "tasks: images_b.fit,images_b.prepare,images_b.score  "
        "packages: numpy==2.1.3 scikit-learn==1.5.2  apt: libgomp1"
    )


def test_ls_json_and_the_lambda_architecture(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "ls", "--json", "--lambda-architecture", "x86_64", FLOWS, "images_a"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["tag"] == image_flows.TRAINER.tag
    assert row["platforms"] == ["linux/amd64"]  # Lambda on x86_64 and Fargate: one platform
    assert row["tasks"] == ["images_a.fit", "images_a.prepare"]


def test_ls_without_a_file_reads_cdk_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    context = {"stratoflow:workflows": [f"{FLOWS}:images_a"], "stratoflow:lambdaArchitecture": "arm64"}
    Path("cdk.json").write_text(json.dumps({"context": context}))
    assert main(["images", "ls"]) == 0
    assert "platforms: linux/amd64,linux/arm64" in capsys.readouterr().out


def test_build_without_docker_stages_the_contexts_then_fails_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no docker on PATH
    output = tmp_path / "contexts"
    assert main(["images", "build", "--output", str(output), FLOWS, "images_b"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "error: images build: Docker is not installed (no `docker` on PATH); the build contexts are staged "
        f"under {output}\n"
    )
    contexts = sorted((output / "images").iterdir())
    assert len(contexts) == 2  # trainer and reporter; the prebuilt audit image has none
    dockerfiles = {path: (path / "Dockerfile").read_text() for path in contexts}
    (trainer,) = [path for path, text in dockerfiles.items() if f"tag {image_flows.TRAINER.tag}." in text]
    assert (trainer / "requirements" / "image.txt").read_text().split() == [
        "numpy==2.1.3",
        "scikit-learn==1.5.2",
    ]
    assert (trainer / "requirements" / "runtime.txt").read_text().split() == list(image.RUNTIME_REQUIREMENTS)
    assert (trainer / "app" / "image_flows.py").read_bytes() == Path(FLOWS).read_bytes()
    assert f"{image_flows.audit.spec.image.uri}: prebuilt, nothing to build" in captured.out  # type: ignore[union-attr]


def test_an_unknown_workflow_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "ls", FLOWS, "nope"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {FLOWS} has no workflow named 'nope'")


def test_ls_digits_one_image_for_lambda_and_for_fargate_and_its_actor_workers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An actor task's image is built for its workers (Fargate, x86_64), whatever its requests route to."""
    digits = str(Path(__file__).resolve().parents[2] / "examples" / "digits.py")
    assert main(["images", "ls", "--json", digits, "digits"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "digits-ml"
    assert row["platforms"] == ["linux/amd64", "linux/arm64"]  # load_split on Lambda; train, predict
    assert row["tasks"] == ["digits.load_split", "digits.predict", "digits.train"]
    assert main(["images", "ls", "--json", "--lambda-architecture", "x86_64", digits, "digits"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["platforms"] == ["linux/amd64"]
    # predict's requests (1 vCPU / 2 GiB) fit Lambda, but it runs on its environment's workers.
    from stratoflow.define import load_workflow
    from stratoflow.lower import lower

    predict = lower(load_workflow(digits, "digits")).tasks["predict"]
    assert image.task_platform(predict) == ("fargate", "linux/amd64")
