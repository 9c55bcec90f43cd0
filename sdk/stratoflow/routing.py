"""The one compute-routing rule: Lambda -> Fargate -> AWS Batch, the first that fits.

A pure function of a task's requests and options, called by the definition layer (to
reject impossible requests early) and by every backend (to pick where a node runs).
GPUs and anything over Fargate's 16 vCPU / 120 GiB go to AWS Batch on EC2; only a
request no EC2 instance type can meet is a :class:`RoutingError`. Interruptible tasks go
to the Spot flavour of their target (Lambda has none).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

from stratoflow import ir

__all__ = [
    "ACCELERATOR_FAMILIES",
    "BATCH_MAX_EPHEMERAL_MIB",
    "FARGATE_SHAPES",
    "INSTANCE_FAMILIES",
    "LAMBDA_LIMITS",
    "MAX_BATCH_GPUS",
    "MAX_BATCH_MEMORY_MIB",
    "MAX_BATCH_VCPUS",
    "InstanceFamily",
    "Route",
    "RoutingError",
    "batch_shape",
    "route",
    "route_task",
]


# The rule's records are NamedTuples, not frozen dataclasses: both are immutable values, and this
# module loads with every `import stratoflow`, where a dataclass's generated methods (six, each
# compiled at import) cost four times a NamedTuple's making.
class _LambdaLimits(NamedTuple):
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


class Route(NamedTuple):
    """Where a task runs and how big it is."""

    target: Literal["lambda", "fargate", "fargate_spot", "batch", "batch_spot"]
    memory_mib: int
    cpu: float | None = None
    ephemeral_storage_mib: int | None = None
    reason: str = ""
    gpus: int = 0
    instance_families: tuple[str, ...] = ()
    """EC2 instance families a Batch job may run on (empty for Lambda and Fargate)."""
    pool: str = ""
    """The Batch compute pool (``cpu``, ``gpu``, or the families of one accelerator, ``p4d``):
    each pool has its own compute environments and queues, because Batch places a job on
    any instance of its environment that fits, whatever the family."""

    @property
    def vcpus(self) -> int:
        """Whole vCPUs of a Batch job (EC2 jobs take integers); 0 for Lambda."""
        return math.ceil(self.cpu or 0)


def _lambda_memory(requests: ir.ResourcesSpec) -> int:
    from_cpu = math.ceil((requests.cpu or 0) * LAMBDA_LIMITS.mib_per_vcpu)
    wanted = max(requests.memory_mib or DEFAULT_LAMBDA_MEMORY_MIB, from_cpu, LAMBDA_LIMITS.min_memory_mib)
    return wanted


def _why_not_lambda(requests: ir.ResourcesSpec, timeout_seconds: int | None) -> str | None:
    if _wants_gpu(requests):
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
    cpu = requests.cpu or 0.25
    memory = requests.memory_mib or 512
    for shape_cpu, shape_memory in FARGATE_SHAPES:
        if shape_cpu >= cpu and shape_memory >= memory:
            return shape_cpu, shape_memory
    raise RoutingError(
        f"cpu={cpu:g}, memory={memory} MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)"
    )


class InstanceFamily(NamedTuple):
    """An EC2 instance family AWS Batch may launch, described by its largest size.

    Attributes:
        name: The family as Batch takes it in ``instanceTypes`` (``g5``: any size of it).
        max_vcpus: vCPUs of the largest size.
        max_memory_gib: Memory of the largest size.
        max_gpus: NVIDIA GPUs of the largest size (0: a CPU family).
        accelerator: Flyte's device string of its GPU, or ``None``.
    """

    name: str
    max_vcpus: int
    max_memory_gib: int
    max_gpus: int = 0
    accelerator: str | None = None

    def usable_memory_mib(self) -> int:
        # The OS and ECS agent keep part of an instance's memory, and Batch places a job
        # only where its memory fits what the agent registers (about 95% of the nominal size).
        return self.max_memory_gib * 1024 * 95 // 100


# Current-generation x86_64 families (the container image is amd64), largest sizes from the
# EC2 instance-type pages (checked 2026-12): general purpose, compute, memory optimised.
_CPU_FAMILIES = (
    InstanceFamily("m6i", 128, 512),
    InstanceFamily("c6i", 128, 256),
    InstanceFamily("r6i", 128, 1024),
    InstanceFamily("m7i", 192, 768),
    InstanceFamily("c7i", 192, 384),
    InstanceFamily("r7i", 192, 1536),
    InstanceFamily("x2iedn", 128, 4096),
)
_GPU_FAMILIES = (
    InstanceFamily("g4dn", 96, 384, 8, "nvidia-tesla-t4"),
    InstanceFamily("g5", 192, 768, 8, "nvidia-a10g"),
    InstanceFamily("g6", 192, 768, 8, "nvidia-l4"),
    InstanceFamily("g6e", 192, 1536, 8, "nvidia-l40s"),
    InstanceFamily("p3", 64, 488, 8, "nvidia-tesla-v100"),
    InstanceFamily("p4d", 96, 1152, 8, "nvidia-tesla-a100"),
    InstanceFamily("p4de", 96, 1152, 8, "nvidia-a100-80gb"),
    InstanceFamily("p5", 192, 2048, 8, "nvidia-h100"),
)
INSTANCE_FAMILIES: tuple[InstanceFamily, ...] = (*_CPU_FAMILIES, *_GPU_FAMILIES)
# Flyte's accelerator device strings -> the families that carry that GPU.
# K80 (p2), M60 (g3), P4 and P100 have no current-generation family, so they route nowhere.
ACCELERATOR_FAMILIES: dict[str, tuple[str, ...]] = {
    **{
        f.accelerator: tuple(g.name for g in _GPU_FAMILIES if g.accelerator == f.accelerator)
        for f in _GPU_FAMILIES
        if f.accelerator is not None
    },
    "nvidia-l4-vws": ("g6",),  # the L4's virtual-workstation profile: the same g6 hardware
}
# ``Resources(gpu=N)`` without an accelerator: the inexpensive inference/training GPUs.
_ANY_GPU_FAMILIES = ("g4dn", "g5", "g6")
# 2 GiB per vCPU (the compute-optimised ratio) when only cpu is requested, so every family fits.
_BATCH_MIB_PER_VCPU = 2048
# The ECS-optimised Amazon Linux 2 AMI has one 30 GiB volume, shared by the OS, Docker and jobs.
BATCH_MAX_EPHEMERAL_MIB = 30 * 1024
MAX_BATCH_VCPUS = max(f.max_vcpus for f in INSTANCE_FAMILIES)
MAX_BATCH_GPUS = max(f.max_gpus for f in INSTANCE_FAMILIES)
MAX_BATCH_MEMORY_MIB = max(f.usable_memory_mib() for f in INSTANCE_FAMILIES)


def _candidate_families(requests: ir.ResourcesSpec, gpus: int) -> tuple[InstanceFamily, ...]:
    if requests.accelerator is not None:
        names = ACCELERATOR_FAMILIES.get(requests.accelerator)
        if names is None:
            known = ", ".join(sorted(ACCELERATOR_FAMILIES))
            raise RoutingError(
                f"no EC2 instance family has accelerator {requests.accelerator!r} (known: {known})"
            )
        return tuple(f for f in _GPU_FAMILIES if f.name in names)
    if gpus:
        return tuple(f for f in _GPU_FAMILIES if f.name in _ANY_GPU_FAMILIES)
    return _CPU_FAMILIES


def _pool(requests: ir.ResourcesSpec, gpus: int) -> str:
    if requests.accelerator is not None:
        return "_".join(ACCELERATOR_FAMILIES[requests.accelerator])
    return "gpu" if gpus else "cpu"


def batch_shape(requests: ir.ResourcesSpec) -> tuple[int, int, int, tuple[str, ...]]:
    """The AWS Batch job size of a request: (vCPUs, memory MiB, GPUs, instance families).

    Raises:
        RoutingError: No EC2 instance type meets the request; the message names the limit.

    Example:
        >>> batch_shape(ir.ResourcesSpec(gpu=1, accelerator="nvidia-a10g"))
        (1, 2048, 1, ('g5',))
    """
    gpus = max(requests.gpu, 1 if requests.accelerator is not None else 0)
    vcpus = max(1, math.ceil(requests.cpu or 0))
    memory = requests.memory_mib or vcpus * _BATCH_MIB_PER_VCPU
    if gpus > MAX_BATCH_GPUS:
        raise RoutingError(f"gpu={gpus} exceeds {MAX_BATCH_GPUS} GPUs, the most any EC2 instance has")
    if vcpus > MAX_BATCH_VCPUS:
        raise RoutingError(f"cpu={requests.cpu:g} exceeds {MAX_BATCH_VCPUS} vCPUs, the largest EC2 instance")
    if memory > MAX_BATCH_MEMORY_MIB:
        raise RoutingError(
            f"memory={memory} MiB exceeds {MAX_BATCH_MEMORY_MIB} MiB, the most a job gets on the "
            "largest EC2 instance"
        )
    candidates = _candidate_families(requests, gpus)
    fitting = tuple(
        f.name
        for f in candidates
        if vcpus <= f.max_vcpus and memory <= f.usable_memory_mib() and gpus <= f.max_gpus
    )
    if not fitting:
        largest = ", ".join(
            f"{f.name}: {f.max_vcpus} vCPU, {f.usable_memory_mib()} MiB, {f.max_gpus} GPUs"
            for f in candidates
        )
        raise RoutingError(
            f"cpu={vcpus}, memory={memory} MiB, gpu={gpus} fits no instance of the eligible families "
            f"({largest})"
        )
    return vcpus, memory, gpus, fitting


def _wants_gpu(requests: ir.ResourcesSpec) -> bool:
    return requests.gpu > 0 or requests.accelerator is not None


def _fits_fargate(requests: ir.ResourcesSpec) -> str | None:
    """Why a request cannot run on Fargate, or None when some Fargate size fits it."""
    if _wants_gpu(requests):
        return "Fargate has no GPUs"
    try:
        _fargate_shape(requests)
    except RoutingError as exc:
        return str(exc)
    return None


def route(
    requests: ir.ResourcesSpec,
    *,
    interruptible: bool = False,
    timeout_seconds: int | None = None,
    compute: Literal["auto", "lambda", "fargate", "batch"] = "auto",
) -> Route:
    """Pick the compute target for a task, or raise RoutingError saying why none fits.

    Example:
        >>> route(ir.ResourcesSpec(cpu=1, memory_mib=512)).target
        'lambda'
        >>> route(ir.ResourcesSpec(gpu=1), interruptible=True).target
        'batch_spot'
    """
    if (requests.ephemeral_storage_mib or 0) > FARGATE_MAX_EPHEMERAL_MIB:
        # Batch jobs get the instance's root volume, which is smaller still (see below).
        raise RoutingError("ephemeral storage over Fargate's 200 GiB (AWS Batch jobs get no more)")
    why_not_lambda = _why_not_lambda(requests, timeout_seconds)
    if compute == "lambda" and why_not_lambda:
        raise RoutingError(f"compute='lambda' but {why_not_lambda}")
    if (compute == "auto" and why_not_lambda is None) or compute == "lambda":
        return Route(
            target="lambda",
            memory_mib=_lambda_memory(requests),
            ephemeral_storage_mib=max(512, requests.ephemeral_storage_mib or 512),
            reason="fits Lambda",
        )
    why_not_fargate = None if compute == "batch" else _fits_fargate(requests)
    if compute == "fargate" and why_not_fargate:
        raise RoutingError(f"compute='fargate' but {why_not_fargate}")
    if compute != "batch" and why_not_fargate is None:
        cpu, memory = _fargate_shape(requests)
        return Route(
            target="fargate_spot" if interruptible else "fargate",
            memory_mib=memory,
            cpu=cpu,
            ephemeral_storage_mib=max(21 * 1024, requests.ephemeral_storage_mib or 0),
            reason="compute='fargate'" if compute == "fargate" else (why_not_lambda or ""),
        )
    if (requests.ephemeral_storage_mib or 0) > BATCH_MAX_EPHEMERAL_MIB:
        raise RoutingError(
            f"ephemeral storage over {BATCH_MAX_EPHEMERAL_MIB // 1024} GiB, the root volume of the "
            "ECS-optimised AMI that AWS Batch instances boot (the stack sets no larger volume)"
        )
    vcpus, memory, gpus, families = batch_shape(requests)
    return Route(
        target="batch_spot" if interruptible else "batch",
        memory_mib=memory,
        cpu=float(vcpus),
        gpus=gpus,
        instance_families=families,
        pool=_pool(requests, gpus),
        reason="compute='batch'" if compute == "batch" else (why_not_fargate or ""),
    )


def route_task(task: ir.TaskSpec) -> Route:
    """:func:`route` of a task by its own requests, interruptibility, timeout and ``compute=``."""
    return route(
        task.requests,
        interruptible=task.interruptible,
        timeout_seconds=task.timeout_seconds,
        compute=task.compute,
    )
