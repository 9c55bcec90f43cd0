"""``Resources``: Flyte-style resource requests, parsed into :class:`stratoflow.ir.ResourcesSpec`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stratoflow import ir

__all__ = ["Resources", "parse_cpu", "parse_gpu", "parse_memory_mib", "to_spec"]

# Patterns are kept as text: ``re`` compiles each on first use (and caches it), not at import.
_MEMORY = r"^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|k)?B?\s*$"
_FACTORS_MIB = {
    None: 1 / (1024 * 1024),  # plain bytes, as in Kubernetes
    "Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0, "Ti": 1024.0 * 1024,
    "k": 1000 / 1024**2, "K": 1000 / 1024**2, "M": 1000**2 / 1024**2,
    "G": 1000**3 / 1024**2, "T": 1000**4 / 1024**2,
}  # fmt: skip


@dataclass(frozen=True)
class Resources:
    """Resource requests or limits, spelled as in Flyte / Kubernetes.

    Example:
        >>> Resources(cpu="500m", mem="2Gi")
        Resources(cpu='500m', mem='2Gi', gpu=0, ephemeral_storage=None)
    """

    cpu: int | float | str | None = None
    mem: str | int | None = None
    gpu: int | str = 0  # Flyte spells it "1"
    ephemeral_storage: str | int | None = None


def parse_cpu(value: int | float | str) -> float:
    """``2``, ``0.5`` or ``"500m"`` -> vCPUs."""
    try:
        if isinstance(value, str):
            text = value.strip()
            number = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
        else:
            number = float(value)
    except ValueError:
        number = math.nan  # reported below, with the accepted spellings
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"cpu must be a positive number of vCPUs, got {value!r}")
    return number


def parse_memory_mib(value: str | int) -> int:
    """``"512Mi"``, ``"4Gi"``, ``"2G"`` (or an int of MiB) -> MiB, rounded up."""
    if isinstance(value, int):
        mib = float(value)
    else:
        match = re.match(_MEMORY, value)
        if match is None:
            raise ValueError(f"memory must look like '512Mi', '4Gi' or '2G', got {value!r}")
        mib = float(match.group(1)) * _FACTORS_MIB[match.group(2)]
    if mib <= 0:
        raise ValueError(f"memory must be positive, got {value!r}")
    return math.ceil(mib)


def parse_gpu(value: int | str) -> int:
    """``1`` or ``"1"`` -> a whole number of GPUs (>= 0)."""
    # bool is an int, and int("1.5") fails: only whole counts, as ints or digit strings, pass.
    whole = isinstance(value, int) and not isinstance(value, bool)
    count = int(value) if whole or (isinstance(value, str) and value.strip().isdigit()) else -1
    if count < 0:
        raise ValueError(f"gpu must be >= 0 (a whole number of GPUs), got {value!r}")
    return count


def to_spec(resources: Resources | None) -> ir.ResourcesSpec:
    """Normalise a Resources to vCPUs and MiB (raises ValueError on a bad spelling)."""
    if resources is None:
        return ir.ResourcesSpec.trusted()
    return ir.ResourcesSpec(
        cpu=None if resources.cpu is None else parse_cpu(resources.cpu),
        memory_mib=None if resources.mem is None else parse_memory_mib(resources.mem),
        gpu=parse_gpu(resources.gpu),
        ephemeral_storage_mib=(
            None if resources.ephemeral_storage is None else parse_memory_mib(resources.ephemeral_storage)
        ),
    )
