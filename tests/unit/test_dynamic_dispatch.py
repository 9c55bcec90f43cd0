"""How the interpreter runs each node of a dynamic graph (``runtime.dispatch``), and the plan-time
check that the stack has the compute a graph needs (``runtime.check_remote_graph``)."""

from __future__ import annotations

from typing import Any

import pytest

from stratoflow import ImageSpec, Resources, Secret, routing, task
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime._dynamic_dispatch import check_remote_graph, dispatch
from tests.local import _dynamic_flows as df
from tests.local import _dynamic_spot_gpu_flows as sgf

ALL = protocol.DynamicCompute(
    fargate=True,
    batch_queues={
        protocol.batch_queue(p, spot=s): f"arn:{p}:{s}" for p in ("cpu", "gpu") for s in (False, True)
    },
)


def test_each_kind_of_node_gets_what_its_state_needs() -> None:
    spec = lower(df.fibonacci)
    assert dispatch(spec, "fib", ALL) == protocol.DagNode(node="fib", kind=protocol.Dispatch.DYNAMIC)


def test_a_map_node_is_a_distributed_map_over_a_lambda_or_fargate_task() -> None:
    @df.workflow
    def mapped(xs: list[int]) -> list[int]:
        return df.map_task(df.square)(x=xs)

    @df.workflow
    def mapped_limited(xs: list[int]) -> list[int | None]:
        return df.map_task(df.square, concurrency=3, min_success_ratio=0.75)(x=xs)

    spec = lower(mapped)
    assert dispatch(spec, spec.nodes[0].id, ALL) == protocol.DagNode(
        node=spec.nodes[0].id, kind=protocol.Dispatch.MAP, concurrency=0, tolerated=0
    )
    limited = lower(mapped_limited)
    node = dispatch(limited, limited.nodes[0].id, ALL)
    assert (node.kind, node.concurrency, node.tolerated) == (protocol.Dispatch.MAP, 3, 25)
    check_remote_graph(spec, "dyn", ALL)


@pytest.mark.parametrize(
    ("task", "kind"),
    [(df.big_square, protocol.Dispatch.MAP_FARGATE), (df.spot_square, protocol.Dispatch.MAP_FARGATE_SPOT)],
)
def test_a_map_over_a_fargate_task_runs_its_batches_in_containers_of_its_size(
    task: Any, kind: protocol.Dispatch
) -> None:
    @df.workflow
    def mapped(xs: list[int]) -> list[int | None]:
        return df.map_task(task, concurrency=4, min_success_ratio=0.5)(x=xs)

    spec = lower(mapped)
    check_remote_graph(spec, "dyn", ALL)
    node = dispatch(spec, spec.nodes[0].id, ALL)
    route = routing.route(task.spec.requests, interruptible=task.spec.interruptible)
    assert (node.kind, node.concurrency, node.tolerated) == (kind, 4, 50)
    # The batch container's RunTask overrides, as a Fargate node's: the routing rule's pair.
    assert (node.cpu, node.memory, node.disk) == (str(int((route.cpu or 0.25) * 1024)), "12288", 21)
    with pytest.raises(TaskFailedError, match=r"needs Fargate .* deployed no Fargate compute"):
        check_remote_graph(spec, "dyn", protocol.DynamicCompute())


@pytest.mark.parametrize(
    ("task", "kind", "queue"),
    [
        (df.gpu_square, protocol.Dispatch.MAP_BATCH, "arn:gpu:False"),
        (sgf.spot_gpu_square, protocol.Dispatch.MAP_BATCH_SPOT, "arn:gpu:True"),
    ],
)
def test_a_map_over_a_batch_task_runs_its_batches_as_jobs_of_its_pool(
    task: Any, kind: protocol.Dispatch, queue: str
) -> None:
    @df.workflow
    def mapped(xs: list[int]) -> list[int | None]:
        return df.map_task(task, concurrency=2, min_success_ratio=0.5)(x=xs)

    spec = lower(mapped)
    check_remote_graph(spec, "dyn", ALL)
    node = dispatch(spec, spec.nodes[0].id, ALL)
    assert (node.kind, node.concurrency, node.tolerated) == (kind, 2, 50)
    # Each batch's SubmitJob, as a Batch node's: its pool's queue (Spot first), the on-demand one
    # a reclaimed batch runs again on, and the GPU among its ResourceRequirements.
    assert (node.queue, node.on_demand_queue, node.job_name) == (queue, "arn:gpu:False", spec.nodes[0].id)
    assert {"Type": "GPU", "Value": "1"} in node.resources
    with pytest.raises(TaskFailedError, match=r"needs AWS Batch pool 'gpu' .* deployed no such queue"):
        check_remote_graph(spec, "dyn", protocol.DynamicCompute(fargate=True))


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        (df.big_square, protocol.Dispatch.FARGATE),
        (df.spot_square, protocol.Dispatch.FARGATE_SPOT),
        (df.gpu_square, protocol.Dispatch.BATCH),
        (df.square, protocol.Dispatch.LAMBDA),
    ],
)
def test_task_nodes_follow_the_routing_rule(task: object, kind: protocol.Dispatch) -> None:
    spec = _single(task)
    node = dispatch(spec, spec.nodes[0].id, ALL)
    assert node.kind is kind
    route = routing.route(task.spec.requests, interruptible=task.spec.interruptible)
    if kind in (protocol.Dispatch.FARGATE, protocol.Dispatch.FARGATE_SPOT):
        # RunTask overrides: strings, a valid Fargate pair from the routing rule.
        assert (node.cpu, node.memory) == (str(int((route.cpu or 0.25) * 1024)), str(route.memory_mib))
        assert node.memory == "12288" and node.disk == 21
    if kind is protocol.Dispatch.BATCH:
        assert node.queue == node.on_demand_queue == "arn:gpu:False"
        assert {"Type": "GPU", "Value": "1"} in node.resources
        assert node.job_name == spec.nodes[0].id


def _single(task: object) -> object:
    @df.workflow
    def one(x: int) -> int:
        return task(x=x)  # type: ignore[operator]

    return lower(one)


def test_a_graph_needing_compute_the_stack_lacks_fails_at_plan_time() -> None:
    spec = _single(df.big_square)
    check_remote_graph(spec, "dyn", ALL)  # every target deployed: fine
    with pytest.raises(TaskFailedError) as caught:
        check_remote_graph(spec, "dyn", protocol.DynamicCompute())
    assert caught.value.error_type == "UnsupportedDynamicGraph"
    assert "task 'big_square' needs Fargate" in str(caught.value)
    assert "deployed no Fargate compute for dynamic graphs" in str(caught.value)
    with pytest.raises(TaskFailedError, match="needs AWS Batch pool 'gpu'"):
        check_remote_graph(_single(df.gpu_square), "dyn", protocol.DynamicCompute(fargate=True))


def _imaged_tasks() -> tuple[Any, Any, ImageSpec]:

    trainer = ImageSpec(name="trainer", packages=["scikit-learn==1.5.2"])

    @task(container_image=trainer)
    def imaged(x: int) -> int:
        return x

    @task(container_image=trainer, requests=Resources(mem="12Gi"))
    def imaged_big(x: int) -> int:
        return x

    return imaged, imaged_big, trainer


def test_a_lambda_task_with_its_own_image_runs_on_that_images_function() -> None:
    imaged, _, trainer = _imaged_tasks()
    spec = _single(imaged)
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:trainer"
    compute = ALL.model_copy(update={"image_functions": {trainer.tag: arn}})
    check_remote_graph(spec, "dyn", compute)
    assert dispatch(spec, spec.nodes[0].id, compute) == protocol.DagNode(
        node=spec.nodes[0].id, kind=protocol.Dispatch.LAMBDA_IMAGE, function=arn
    )
    # An image function's copy (tags only) checks the graph but cannot dispatch it.
    check_remote_graph(spec, "dyn", compute.tags_only())
    with pytest.raises(RuntimeError, match="only the shared runner dispatches"):
        dispatch(spec, spec.nodes[0].id, compute.tags_only())


def test_a_graph_task_whose_image_the_stack_lacks_fails_at_plan_time_on_aws() -> None:
    imaged, imaged_big, trainer = _imaged_tasks()

    @task(container_image=trainer, requests=Resources(gpu=1))
    def gpu_imaged(x: int) -> int:
        return x

    with pytest.raises(TaskFailedError) as caught:
        check_remote_graph(_single(imaged), "dyn", ALL)
    assert caught.value.error_type == "UnsupportedDynamicGraph"
    assert str(caught.value) == (
        "@dynamic node 'dyn' built a graph this stack cannot run: node 'imaged': task 'imaged' has its own "
        f"image (ImageSpec 'trainer', tag {trainer.tag}) and the stack deployed no function of that image "
        "for dynamic graphs (it deploys those of the Lambda tasks defined or imported in the module of the "
        "workflow with the @dynamic)"
    )
    # On Fargate: the image's generic task definition, when the stack deployed it.
    with pytest.raises(TaskFailedError, match="no Fargate task definition of that image for dynamic graphs"):
        check_remote_graph(_single(imaged_big), "dyn", ALL)
    with pytest.raises(TaskFailedError, match=r"needs Fargate .* and the stack deployed no Fargate compute"):
        tags = {trainer.tag: "arn:td"}
        check_remote_graph(_single(imaged_big), "dyn", protocol.DynamicCompute(image_task_definitions=tags))
    deployed = ALL.model_copy(
        update={"image_functions": {trainer.tag: "arn"}, "image_task_definitions": {trainer.tag: "arn:td"}}
    )
    big = _single(imaged_big)
    check_remote_graph(big, "dyn", deployed)
    node = dispatch(big, big.nodes[0].id, deployed)
    assert (node.kind, node.task_definition) == (protocol.Dispatch.FARGATE_IMAGE, "arn:td")
    assert (node.cpu, node.memory, node.disk) == ("2048", "12288", 21)  # overrides, as the generic one's
    # On Batch, or mapped: still not on AWS (the generic job definition and the map runner's
    # children run the shared image).
    with pytest.raises(TaskFailedError, match="a task with an image runs on Lambda or Fargate only"):
        check_remote_graph(_single(gpu_imaged), "dyn", deployed)

    @df.workflow
    def mapped(xs: list[int]) -> list[int]:
        return df.map_task(imaged)(x=xs)

    with pytest.raises(
        TaskFailedError,
        match="is mapped and has its own image; a map_task inside a dynamic graph runs in the shared runner only",
    ):
        check_remote_graph(lower(mapped), "dyn", deployed)


def test_a_container_task_requesting_secrets_fails_a_dynamic_graph_at_plan_time() -> None:

    token = Secret(group="api", key="token")

    @task(secret_requests=[token], requests=Resources(mem="12Gi"))
    def big_signed(x: int) -> int:
        return x

    @task(secret_requests=[token])
    def signed(x: int) -> int:
        return x

    check_remote_graph(_single(signed), "dyn", ALL)  # on Lambda: the runner reads it
    with pytest.raises(TaskFailedError) as caught:
        check_remote_graph(_single(big_signed), "dyn", ALL)
    assert caught.value.error_type == "UnsupportedDynamicGraph"
    assert "task 'big_signed' requests secrets and runs on fargate (" in str(caught.value)
    assert str(caught.value).endswith(
        "inside a dynamic graph on AWS a task with secret_requests runs on Lambda only"
    )
