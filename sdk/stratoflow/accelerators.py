"""GPU accelerators by Flyte's names, for ``@task(accelerator=...)``.

The constants and device strings are flytekit's (``flytekit.extras.accelerators``), so a
Flyte task's ``accelerator=T4`` or ``accelerator="nvidia-tesla-t4"`` means the same here.
On AWS the device picks the instance families (AWS Batch); locally it is only recorded.

Example:
    >>> from stratoflow.accelerators import T4, resolve
    >>> T4.device
    'nvidia-tesla-t4'
    >>> resolve("nvidia-tesla-t4") == resolve(T4)
    True
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass

__all__ = [
    "A10G",
    "A100",
    "A100_80GB",
    "H100",
    "K80",
    "KNOWN_DEVICES",
    "L4",
    "L4_VWS",
    "L40S",
    "M60",
    "P4",
    "P100",
    "T4",
    "V100",
    "GPUAccelerator",
    "NoGpuWarning",
    "gpu_visible",
    "resolve",
    "warn_if_no_gpu",
]


@dataclass(frozen=True)
class GPUAccelerator:
    """One NVIDIA GPU model, named by its Flyte device string."""

    device: str

    def to_flyte_idl(self) -> str:
        """The device string (flytekit wraps it in a protobuf; stratoflow needs only the name)."""
        return self.device


A10G = GPUAccelerator("nvidia-a10g")
L4 = GPUAccelerator("nvidia-l4")
L4_VWS = GPUAccelerator("nvidia-l4-vws")
K80 = GPUAccelerator("nvidia-tesla-k80")
M60 = GPUAccelerator("nvidia-tesla-m60")
P4 = GPUAccelerator("nvidia-tesla-p4")
P100 = GPUAccelerator("nvidia-tesla-p100")
T4 = GPUAccelerator("nvidia-tesla-t4")
V100 = GPUAccelerator("nvidia-tesla-v100")
A100 = GPUAccelerator("nvidia-tesla-a100")
A100_80GB = GPUAccelerator("nvidia-a100-80gb")
# Not flytekit constants, but device strings Flyte deployments use for GPUs EC2 offers.
H100 = GPUAccelerator("nvidia-h100")
L40S = GPUAccelerator("nvidia-l40s")

KNOWN_DEVICES: tuple[str, ...] = tuple(
    a.device for a in (A10G, L4, L4_VWS, K80, M60, P4, P100, T4, V100, A100, A100_80GB, H100, L40S)
)


def resolve(accelerator: GPUAccelerator | str) -> str:
    """The device string of a constant or a device string; ValueError naming the known ones."""
    device = accelerator.device if isinstance(accelerator, GPUAccelerator) else accelerator
    if not isinstance(device, str) or device not in KNOWN_DEVICES:
        raise ValueError(f"unknown accelerator {accelerator!r}; known devices: {', '.join(KNOWN_DEVICES)}")
    return device


class NoGpuWarning(RuntimeWarning):
    """A task that requests a GPU runs locally on a machine where none is visible (on the CPU)."""


_warned = threading.Event()


def gpu_visible() -> bool:
    """Whether this machine shows an NVIDIA GPU: ``nvidia-smi`` on PATH or devices in
    ``CUDA_VISIBLE_DEVICES`` (cheap: no CUDA library is loaded)."""
    import shutil  # noqa: PLC0415 - loaded when a GPU task checks for nvidia-smi

    devices = os.environ.get("CUDA_VISIBLE_DEVICES")
    if devices is not None:
        return devices.strip() not in ("", "-1")
    return shutil.which("nvidia-smi") is not None


def warn_if_no_gpu(task_name: str, gpus: int) -> None:
    """Warn once per process when a local run starts a GPU task with no GPU to give it."""
    if gpus <= 0 or _warned.is_set() or gpu_visible():
        return
    _warned.set()
    warnings.warn(
        f"task '{task_name}' requests {gpus} GPU(s) but none is visible here "
        "(no nvidia-smi on PATH, CUDA_VISIBLE_DEVICES unset or empty); it runs on the CPU. "
        "On AWS it runs on a GPU instance.",
        NoGpuWarning,
        stacklevel=2,
    )
