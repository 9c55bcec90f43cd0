"""Resource spellings, as in Flyte / Kubernetes: cpu "500m", memory "512Mi" / "4Gi" / "2G"."""

from __future__ import annotations

import math

import pytest

from stratoflow import Resources, ir
from stratoflow.define._resources import parse_cpu, parse_memory_mib, to_spec


@pytest.mark.parametrize(
    ("value", "vcpus"),
    [
        ("500m", 0.5),
        ("250m", 0.25),
        ("1500m", 1.5),
        ("2", 2.0),
        ("0.5", 0.5),
        (" 4 ", 4.0),
        (1, 1.0),
        (0.25, 0.25),
    ],
)
def test_parse_cpu(value: int | float | str, vcpus: float) -> None:
    assert parse_cpu(value) == vcpus


@pytest.mark.parametrize("value", ["0", "0m", "-1", -2, "lots", "1.5x", "nan", "inf", ""])
def test_bad_cpu_is_rejected(value: int | float | str) -> None:
    with pytest.raises(ValueError) as info:
        parse_cpu(value)
    assert str(info.value) == f"cpu must be a positive number of vCPUs, got {value!r}"


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        ("512Mi", 512),
        ("4Gi", 4096),
        ("1Ti", 1024 * 1024),
        ("1024Ki", 1),
        ("1Ki", 1),  # rounded up, never down
        ("2G", math.ceil(2e9 / 2**20)),  # 1,908: decimal gigabytes
        ("1500M", math.ceil(1.5e9 / 2**20)),
        ("1k", 1),
        ("0.5Gi", 512),
        ("3GiB", 3072),
        (" 256Mi ", 256),
        ("1073741824", 1024),  # plain bytes, as in Kubernetes
        (2048, 2048),  # an int is MiB
    ],
)
def test_parse_memory(value: str | int, mib: int) -> None:
    assert parse_memory_mib(value) == mib


@pytest.mark.parametrize("value", ["lots", "4 gigs", "-1Gi", "Gi", "1.2.3Mi", "0Mi", 0, "4Pi"])
def test_bad_memory_is_rejected(value: str | int) -> None:
    with pytest.raises(ValueError, match="memory must"):
        parse_memory_mib(value)


def test_bad_memory_message_shows_the_accepted_spellings() -> None:
    with pytest.raises(ValueError) as info:
        parse_memory_mib("4 gigs")
    assert str(info.value) == "memory must look like '512Mi', '4Gi' or '2G', got '4 gigs'"


def test_to_spec_normalises_everything() -> None:
    spec = to_spec(Resources(cpu="500m", mem="2Gi", gpu=0, ephemeral_storage="20Gi"))
    assert spec == ir.ResourcesSpec(cpu=0.5, memory_mib=2048, gpu=0, ephemeral_storage_mib=20 * 1024)
    assert to_spec(None) == ir.ResourcesSpec()
    assert to_spec(Resources()) == ir.ResourcesSpec()


def test_negative_gpu_is_rejected() -> None:
    with pytest.raises(ValueError, match="gpu must be >= 0"):
        to_spec(Resources(gpu=-1))


def test_resources_are_frozen_and_printable() -> None:
    r = Resources(cpu="500m", mem="2Gi")
    assert repr(r) == "Resources(cpu='500m', mem='2Gi', gpu=0, ephemeral_storage=None)"
    with pytest.raises(AttributeError):
        r.cpu = 2  # type: ignore[misc]
