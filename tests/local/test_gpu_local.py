"""Locally a GPU task runs like any other, with one NoGpuWarning per process if no GPU is visible."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import pytest

from stratoflow import accelerators, ir, task, workflow
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower


@task
def train(x: int) -> int:
    return x * 10


@task
def evaluate(x: int) -> int:
    return x + 1


@workflow
def pipeline(x: int) -> int:
    return evaluate(x=train(x=train(x=x)))


def _with_gpus(spec: ir.WorkflowSpec, name: str) -> ir.WorkflowSpec:
    # Built from the IR so the test holds whatever routing.py says about GPUs at definition time.
    tasks = dict(spec.tasks)
    requests = ir.ResourcesSpec(gpu=1, accelerator=accelerators.T4.device)
    tasks[name] = tasks[name].model_copy(update={"requests": requests})
    return spec.model_copy(update={"tasks": tasks})


@pytest.fixture
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accelerators, "_warned", threading.Event())


def _run(spec: ir.WorkflowSpec, home: Path) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_local(spec, {"x": 1}, RunOptions(home=home, progress=False, use_cache=False))
    assert result.outputs == {"o0": 101}
    return [w for w in caught if issubclass(w.category, accelerators.NoGpuWarning)]


@pytest.mark.usefixtures("fresh_warning")
def test_no_visible_gpu_warns_once_and_the_task_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi here
    spec = _with_gpus(lower(pipeline), "train")
    first = _run(spec, tmp_path)
    assert len(first) == 1, [str(w.message) for w in first]  # two GPU nodes, one warning
    assert "task 'train' requests 1 GPU(s) but none is visible" in str(first[0].message)
    assert issubclass(accelerators.NoGpuWarning, RuntimeWarning)
    assert _run(spec, tmp_path) == []  # once per process


@pytest.mark.usefixtures("fresh_warning")
def test_a_visible_gpu_means_no_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert _run(_with_gpus(lower(pipeline), "train"), tmp_path) == []


@pytest.mark.usefixtures("fresh_warning")
def test_nvidia_smi_on_path_counts_as_a_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\n")
    smi.chmod(0o755)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert accelerators.gpu_visible()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")  # explicitly hidden wins over the binary
    assert not accelerators.gpu_visible()


@pytest.mark.usefixtures("fresh_warning")
def test_cpu_tasks_never_warn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert _run(lower(pipeline), tmp_path) == []
