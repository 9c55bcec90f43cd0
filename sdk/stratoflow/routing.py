"""The one compute-routing rule: Lambda when a task fits, else Fargate (Spot when interruptible).

A pure function of a task's requests and options, called by the definition layer (to
reject impossible requests early) and by every backend (to pick where a node runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from stratoflow import ir

__all__ = ["FARGATE_SHAPES", "LAMBDA_LIMITS", "Route", "RoutingError", "route"]


@dataclass(frozen=True)
class _LambdaLimits:
    max_memory_mib: int = 10_240
    min_memory_mib: int = 128
    max_vcpu: float = 6.0
    mib_per_vcpu: int = 1_769  # Lambda allocates CPU in proportion to memory: 1,769 MB ~ 1 vCPU
    max_ephemeral_mib: int = 10_240
    max_timeout_seconds: int = 900


LAMBDA_LIMITS = _LambdaLimits()
DEFAULT_LAMBDA_MEMORY_MIB = 1_024

# Valid Fargate (vCPU, memory MiB) pairs, smallest first.
FARGATE_SHAPES: tuple[tuple[float, int], ...] = (
    *((0.25, m) for m in (512, 1024, 2048)),
    *((0.5, m * 1024) for m in range(1, 5)),
    *((1.0, m * 1024) for m in range(2, 9)),
    *((2.0, m * 1024) for m in range(4, 17)),
    *((4.0, m * 1024) for m in range(8, 31)),
    *((8.0, m * 1024) for m in range(16, 61, 4)),
    *((16.0, m * 1024) for m in range(32, 121, 8)),
)
FARGATE_MAX_EPHEMERAL_MIB = 200 * 1024


class RoutingError(ValueError):
    """No compute target can meet a task's requests (the message says why)."""


@dataclass(frozen=True)
class Route:
    """Where a task runs and how big it is."""

    target: Literal["lambda", "fargate", "fargate_spot"]
    memory_mib: int
    cpu: float | None = None
    ephemeral_storage_mib: int | None = None
    reason: str = ""


def _lambda_memory(requests: ir.ResourcesSpec) -> int:
    from_cpu = math.ceil((requests.cpu or 0) * LAMBDA_LIMITS.mib_per_vcpu)
    wanted = max(requests.memory_mib or DEFAULT_LAMBDA_MEMORY_MIB, from_cpu, LAMBDA_LIMITS.min_memory_mib)
    return wanted


def _why_not_lambda(requests: ir.ResourcesSpec, timeout_seconds: int | None) -> str | None:
    if requests.gpu:
        return "Lambda has no GPUs"
    if (requests.cpu or 0) > LAMBDA_LIMITS.max_vcpu:
        return f"cpu={requests.cpu} exceeds Lambda's {LAMBDA_LIMITS.max_vcpu:g} vCPUs"
    if _lambda_memory(requests) > LAMBDA_LIMITS.max_memory_mib:
        return f"needs {_lambda_memory(requests)} MiB, over Lambda's {LAMBDA_LIMITS.max_memory_mib} MiB"
    if (requests.ephemeral_storage_mib or 0) > LAMBDA_LIMITS.max_ephemeral_mib:
        return f"ephemeral storage over Lambda's {LAMBDA_LIMITS.max_ephemeral_mib} MiB"
    if timeout_seconds is not None and timeout_seconds > LAMBDA_LIMITS.max_timeout_seconds:
        return f"timeout {timeout_seconds}s exceeds Lambda's {LAMBDA_LIMITS.max_timeout_seconds}s"
    return None


def _fargate_shape(requests: ir.ResourcesSpec) -> tuple[float, int]:
    if requests.gpu:
        raise RoutingError(f"gpu={requests.gpu} requested, but neither Lambda nor Fargate offers GPUs")
    cpu = requests.cpu or 0.25
    memory = requests.memory_mib or 512
    for shape_cpu, shape_memory in FARGATE_SHAPES:
        if shape_cpu >= cpu and shape_memory >= memory:
            return shape_cpu, shape_memory
    raise RoutingError(
        f"cpu={cpu:g}, memory={memory} MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)"
    )


def route(
    requests: ir.ResourcesSpec,
    *,
    interruptible: bool = False,
    timeout_seconds: int | None = None,
    compute: Literal["auto", "lambda", "fargate"] = "auto",
) -> Route:
    """Pick the compute target for a task, or raise RoutingError saying why none fits.

    Example:
        >>> route(ir.ResourcesSpec(cpu=1, memory_mib=512)).target
        'lambda'
    """
    if (requests.ephemeral_storage_mib or 0) > FARGATE_MAX_EPHEMERAL_MIB:
        raise RoutingError("ephemeral storage over Fargate's 200 GiB")
    why_not_lambda = _why_not_lambda(requests, timeout_seconds)
    if compute == "lambda" and why_not_lambda:
        raise RoutingError(f"compute='lambda' but {why_not_lambda}")
    if compute != "fargate" and why_not_lambda is None:
        return Route(
            target="lambda",
            memory_mib=_lambda_memory(requests),
            ephemeral_storage_mib=max(512, requests.ephemeral_storage_mib or 512),
            reason="fits Lambda",
        )
    cpu, memory = _fargate_shape(requests)
    return Route(
        target="fargate_spot" if interruptible else "fargate",
        memory_mib=memory,
        cpu=cpu,
        ephemeral_storage_mib=max(21 * 1024, requests.ephemeral_storage_mib or 0),
        reason="compute='fargate'" if compute == "fargate" else (why_not_lambda or ""),
    )
