"""The one routing rule: Lambda when a task fits, Fargate sized to the nearest valid shape, Spot if asked."""

from __future__ import annotations

import pytest

from stratoflow import ir, routing
from stratoflow.routing import FARGATE_SHAPES, RoutingError, route


def req(
    cpu: float | None = None, mem: int | None = None, gpu: int = 0, disk: int | None = None
) -> ir.ResourcesSpec:
    return ir.ResourcesSpec(cpu=cpu, memory_mib=mem, gpu=gpu, ephemeral_storage_mib=disk)


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


# --- requests no target can meet ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        (req(1, 512, gpu=1), "gpu=1 requested, but neither Lambda nor Fargate offers GPUs"),
        (req(17, 1024), "cpu=17, memory=1024 MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)"),
        (req(64), "cpu=64, memory=512 MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)"),
        (req(4, 121 * 1024), "memory=123904 MiB exceeds the largest Fargate task (16 vCPU, 120 GiB)"),
        (req(disk=300 * 1024), "ephemeral storage over Fargate's 200 GiB"),
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
