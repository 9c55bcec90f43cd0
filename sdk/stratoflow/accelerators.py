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
    "resolve",
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
        raise ValueError(
            f"unknown accelerator {accelerator!r}; known devices: {', '.join(KNOWN_DEVICES)}"
        )
    return device
