"""The one routing rule: Lambda when a task fits, Fargate sized to the nearest valid shape, Spot if asked."""

from __future__ import annotations

import pytest

from stratoflow import ir, routing
from stratoflow.routing import FARGATE_SHAPES, RoutingError, route


def req(
    cpu: float | None = None,
    mem: int | None = None,
    gpu: int = 0,
    disk: int | None = None,
    accelerator: str | None = None,
) -> ir.ResourcesSpec:
    return ir.ResourcesSpec(
        cpu=cpu, memory_mib=mem, gpu=gpu, ephemeral_storage_mib=disk, accelerator=accelerator
    )


# --- Lambda --------------------------------------------------------------------------------------


def test_no_requests_runs_on_lambda_with_default_memory() -> None:
    r = route(req())
    assert r.target == "lambda"
    assert r.memory_mib == 1024
    assert r.cpu is None


@pytest.mark.parametrize(
    ("cpu", "mem", "memory_mib"),
    [
        (None, 512, 512),
        (None, 10_240, 10_240),  # exactly Lambda's maximum
        (1, 512, 1769),  # Lambda gives CPU in proportion to memory: 1 vCPU needs 1,769 MB
        (2, 4096, 4096),
        (0.5, None, 1024),
        (5.5, None, 9730),
        (5.7, None, 10_084),  # 5.7 vCPU -> 10,084 MB, still under the cap
    ],
)
def test_fits_lambda(cpu: float | None, mem: int | None, memory_mib: int) -> None:
    r = route(req(cpu, mem))
    assert (r.target, r.memory_mib) == ("lambda", memory_mib)
    assert r.reason == "fits Lambda"


def test_interruptible_does_not_matter_on_lambda() -> None:
    assert route(req(1, 512), interruptible=True).target == "lambda"


def test_lambda_memory_has_a_floor() -> None:
    assert route(req(mem=64)).memory_mib == 128


# --- Fargate: why not Lambda, and the nearest valid shape ---------------------------------------


@pytest.mark.parametrize(
    ("requests", "timeout", "shape", "why"),
    [
        (req(8, 32 * 1024), None, (8.0, 32 * 1024), "cpu=8.0 exceeds Lambda's 6 vCPUs"),
        (req(7, 1024), None, (8.0, 16 * 1024), "cpu=7.0 exceeds Lambda's 6 vCPUs"),
        (req(None, 11_000), None, (2.0, 11 * 1024), "needs 11000 MiB, over Lambda's 10240 MiB"),
        (req(6, None), None, (8.0, 16 * 1024), "needs 10614 MiB, over Lambda's 10240 MiB"),
        (req(1, 512), 3600, (1.0, 2048), "timeout 3600s exceeds Lambda's 900s"),
        (req(None, None, disk=20_000), None, (0.25, 512), "ephemeral storage over Lambda's 10240 MiB"),
        (req(16, 120 * 1024), None, (16.0, 120 * 1024), "cpu=16.0 exceeds Lambda's 6 vCPUs"),
        (req(9, 61 * 1024), None, (16.0, 64 * 1024), "cpu=9.0 exceeds Lambda's 6 vCPUs"),
        (req(4, 31 * 1024), None, (8.0, 32 * 1024), "needs 31744 MiB, over Lambda's 10240 MiB"),
    ],
)
def test_fargate_sized_to_the_nearest_valid_pair(
    requests: ir.ResourcesSpec, timeout: int | None, shape: tuple[float, int], why: str | None
) -> None:
    r = route(requests, timeout_seconds=timeout)
    assert r.target == "fargate"
    assert (r.cpu, r.memory_mib) == shape
    assert shape in FARGATE_SHAPES
    if why is not None:
        assert r.reason == why


def test_interruptible_goes_to_fargate_spot() -> None:
    r = route(req(8, 32 * 1024), interruptible=True)
    assert r.target == "fargate_spot"
    assert (r.cpu, r.memory_mib) == (8.0, 32 * 1024)


def test_every_fargate_shape_is_chosen_for_itself() -> None:
    for cpu, memory in FARGATE_SHAPES:
        r = route(req(cpu, memory), compute="fargate")
        assert (r.cpu, r.memory_mib) == (cpu, memory)


def test_fargate_shapes_are_the_valid_aws_pairs() -> None:
    shapes = set(FARGATE_SHAPES)
    assert {m for c, m in shapes if c == 0.25} == {512, 1024, 2048}
    assert {m for c, m in shapes if c == 0.5} == {1024, 2048, 3072, 4096}
    assert {m for c, m in shapes if c == 1.0} == {g * 1024 for g in range(2, 9)}
    assert {m for c, m in shapes if c == 2.0} == {g * 1024 for g in range(4, 17)}
    assert {m for c, m in shapes if c == 4.0} == {g * 1024 for g in range(8, 31)}
    assert {m for c, m in shapes if c == 8.0} == {g * 1024 for g in range(16, 61, 4)}
    assert {m for c, m in shapes if c == 16.0} == {g * 1024 for g in range(32, 121, 8)}


def test_the_chosen_shape_is_the_smallest_that_fits() -> None:
    for cpu in (0.25, 0.3, 1, 1.5, 3, 5, 10):
        for memory in (300, 1000, 2500, 9000, 20_000, 50_000, 100_000):
            try:
                r = route(req(cpu, memory), compute="fargate")
            except RoutingError:
                continue
            assert r.cpu is not None
            assert r.cpu >= cpu and r.memory_mib >= memory
            cheaper = [(c, m) for c, m in FARGATE_SHAPES if c >= cpu and m >= memory and c < r.cpu]
            assert cheaper == []
            same_cpu_less_memory = [
                (c, m) for c, m in FARGATE_SHAPES if c == r.cpu and memory <= m < r.memory_mib
            ]
            assert same_cpu_less_memory == []


# --- AWS Batch: GPUs and anything over Fargate's largest task ------------------------------------


@pytest.mark.parametrize(
    ("requests", "shape", "why"),
    [
        (req(1, 512, gpu=1), (1, 512, 1, ("g4dn", "g5", "g6")), "Fargate has no GPUs"),
        (req(gpu=1), (1, 2048, 1, ("g4dn", "g5", "g6")), "Fargate has no GPUs"),
        (req(8, 64 * 1024, gpu=4), (8, 64 * 1024, 4, ("g4dn", "g5", "g6")), "Fargate has no GPUs"),
        (req(4, 16 * 1024, accelerator="nvidia-tesla-t4"), (4, 16 * 1024, 1, ("g4dn",)), None),
        (req(accelerator="nvidia-a10g"), (1, 2048, 1, ("g5",)), None),
        (req(accelerator="nvidia-l4"), (1, 2048, 1, ("g6",)), None),
        (req(gpu=8, accelerator="nvidia-tesla-a100"), (1, 2048, 8, ("p4d",)), None),
        (req(accelerator="nvidia-a100-80gb"), (1, 2048, 1, ("p4de",)), None),
        (req(accelerator="nvidia-h100"), (1, 2048, 1, ("p5",)), None),
        (req(accelerator="nvidia-tesla-v100"), (1, 2048, 1, ("p3",)), None),
        # More than Fargate's 16 vCPU / 120 GiB: the smallest families that hold it.
        (
            req(17, 1024),
            (17, 1024, 0, ("m6i", "c6i", "r6i", "m7i", "c7i", "r7i", "x2iedn")),
            "cpu=17, memory=1024 MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)",
        ),
        (req(64), (64, 64 * 2048, 0, ("m6i", "c6i", "r6i", "m7i", "c7i", "r7i", "x2iedn")), None),
        (req(4, 300 * 1024), (4, 300 * 1024, 0, ("m6i", "r6i", "m7i", "c7i", "r7i", "x2iedn")), None),
        (req(160, 1024 * 1024), (160, 1024 * 1024, 0, ("r7i",)), None),
        (req(64, 2048 * 1024), (64, 2048 * 1024, 0, ("x2iedn",)), None),
    ],
)
def test_gpu_and_oversize_requests_run_on_batch(
    requests: ir.ResourcesSpec, shape: tuple[int, int, int, tuple[str, ...]], why: str | None
) -> None:
    r = route(requests)
    assert r.target == "batch"
    assert (r.vcpus, r.memory_mib, r.gpus, r.instance_families) == shape
    if why is not None:
        assert r.reason == why


def test_interruptible_batch_goes_to_batch_spot() -> None:
    r = route(req(gpu=1), interruptible=True)
    assert (r.target, r.gpus) == ("batch_spot", 1)


def test_a_gpu_task_ignores_lambda_timeouts_and_sizes() -> None:
    assert route(req(0.5, 256, gpu=1), timeout_seconds=60).target == "batch"


def test_batch_vcpus_are_whole() -> None:
    assert route(req(16.5, 1024)).vcpus == 17


def test_every_accelerator_maps_to_a_gpu_family() -> None:
    for accelerator, families in routing.ACCELERATOR_FAMILIES.items():
        r = route(req(accelerator=accelerator))
        assert r.instance_families == families
        assert all(f.max_gpus > 0 for f in routing.INSTANCE_FAMILIES if f.name in families), accelerator


def test_documented_largest_instances_bound_batch() -> None:
    assert routing.MAX_BATCH_VCPUS == 192  # m7i/c7i/r7i/g5/g6/p5 .48xlarge
    assert routing.MAX_BATCH_GPUS == 8
    assert routing.MAX_BATCH_MEMORY_MIB == 4096 * 1024 * 95 // 100  # x2iedn.32xlarge, less agent share


# --- requests no target can meet ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (req(gpu=9), "gpu=9 exceeds 8 GPUs, the most any EC2 instance has"),
        (req(193), "cpu=193 exceeds 192 vCPUs, the largest EC2 instance"),
        (
            req(4, 5 * 1024 * 1024),
            "memory=5242880 MiB exceeds 3984588 MiB, the most a job gets on the largest EC2 instance",
        ),
        (req(accelerator="nvidia-tesla-k80"), "no EC2 instance family has accelerator 'nvidia-tesla-k80'"),
        (
            req(128, 1024, accelerator="nvidia-tesla-t4"),
            "cpu=128, memory=1024 MiB, gpu=1 fits no instance of the eligible families (g4dn: 96 vCPU",
        ),
        (req(disk=300 * 1024), "ephemeral storage over Fargate's 200 GiB"),
        (
            req(gpu=1, disk=64 * 1024),
            "ephemeral storage over 30 GiB, the root volume of the ECS-optimised AMI that AWS Batch",
        ),
    ],
)
def test_impossible_requests_say_why(requests: ir.ResourcesSpec, message: str) -> None:
    with pytest.raises(RoutingError) as info:
        route(requests)
    assert message in str(info.value)


# --- compute= overrides the rule ------------------------------------------------------------------


def test_compute_fargate_overrides_a_lambda_fit() -> None:
    r = route(req(0.5, 3 * 1024), compute="fargate")
    assert (r.target, r.cpu, r.memory_mib) == ("fargate", 0.5, 3 * 1024)
    assert r.reason == "compute='fargate'"
    assert route(req(0.5, 3 * 1024), compute="fargate", interruptible=True).target == "fargate_spot"


def test_compute_batch_forces_batch() -> None:
    r = route(req(1, 512), compute="batch")
    assert (r.target, r.vcpus, r.memory_mib, r.gpus) == ("batch", 1, 512, 0)
    assert r.reason == "compute='batch'"
    assert route(req(1, 512), compute="batch", interruptible=True).target == "batch_spot"


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (req(gpu=1), "compute='fargate' but Fargate has no GPUs"),
        (req(17, 1024), "compute='fargate' but cpu=17, memory=1024 MiB exceeds the largest Fargate task"),
    ],
)
def test_compute_fargate_that_cannot_fit_says_why(requests: ir.ResourcesSpec, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        route(requests, compute="fargate")


def test_compute_lambda_is_honoured_when_it_fits() -> None:
    assert route(req(2, 2048), compute="lambda").target == "lambda"


def test_compute_lambda_that_cannot_fit_says_why() -> None:
    with pytest.raises(RoutingError, match=r"compute='lambda' but timeout 1800s exceeds Lambda's 900s"):
        route(req(1, 1024), compute="lambda", timeout_seconds=1800)


def test_routing_error_is_a_value_error_for_the_definition_layer_to_report() -> None:
    assert issubclass(RoutingError, ValueError)
    assert routing.LAMBDA_LIMITS.max_memory_mib == 10_240


def test_the_training_example_trains_on_fargate_spot() -> None:
    from tests._examples import load_example

    load_example("training.py", "training")
    import training  # type: ignore[import-not-found]  # loaded by file, as `stratoflow run` does

    spec = training.train.spec
    r = route(spec.requests, interruptible=spec.interruptible, timeout_seconds=spec.timeout_seconds)
    assert (r.target, r.cpu, r.memory_mib) == ("fargate_spot", 8.0, 32 * 1024)
    score = training.score.spec
    assert route(score.requests, timeout_seconds=score.timeout_seconds).target == "lambda"


@pytest.mark.parametrize(
    ("requests", "pool"),
    [
        (req(17, 1024), "cpu"),
        (req(gpu=2), "gpu"),
        (req(accelerator="nvidia-tesla-a100"), "p4d"),
        (req(accelerator="nvidia-l4"), "g6"),
    ],
)
def test_batch_pools_keep_accelerators_on_their_own_families(requests: ir.ResourcesSpec, pool: str) -> None:
    # Batch places a job on any instance of its environment that fits, so an A100 job
    # must not share an environment with T4 instances.
    assert route(requests).pool == pool


def test_non_batch_routes_have_no_batch_shape() -> None:
    r = route(req(8, 32 * 1024))
    assert (r.gpus, r.instance_families, r.pool) == (0, (), "")


def test_every_flyte_accelerator_routes_or_says_it_has_no_family() -> None:
    from stratoflow import accelerators

    unsupported = set()
    for device in accelerators.KNOWN_DEVICES:
        if device in routing.ACCELERATOR_FAMILIES:
            assert route(req(accelerator=device)).target == "batch"
        else:
            with pytest.raises(RoutingError, match=f"no EC2 instance family has accelerator '{device}'"):
                route(req(accelerator=device))
            unsupported.add(device)
    assert unsupported == {"nvidia-tesla-k80", "nvidia-tesla-m60", "nvidia-tesla-p4", "nvidia-tesla-p100"}
    assert route(req(accelerator="nvidia-l4-vws")).instance_families == ("g6",)
