"""Series-parallel decomposition: every node runs after its inputs, and parallelism is kept.

Each shape is compiled to ASL and checked with an independent happens-before checker
(tests/compile/asl_order.py) that reads only the ASL, so a wrong plan cannot hide.
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.backends.asl import _graph
from stratoflow.backends.asl._graph import Leaf, Parallel, Series
from tests.compile.asl_cases import chain_edges, dag_spec, fan_out_edges
from tests.compile.asl_order import AslOrder, order_violations

SHAPES: dict[str, dict[str, list[str]]] = {
    "chain": chain_edges(4),
    "diamond": {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]},
    "n_shape": {"a": [], "b": [], "c": ["a", "b"], "d": ["b"]},
    "fan_out": fan_out_edges(7),
    "two_components": {"a": [], "b": ["a"], "x": [], "y": ["x"], "z": ["x"]},
    "chains_with_cross_edge": {
        **{f"a{i}": [f"a{i - 1}"] if i else [] for i in range(5)},
        **{f"b{i}": [f"b{i - 1}"] if i else [] for i in range(4)},
        "b4": ["b3", "a0"],
    },
    "double_n": {"a": [], "b": [], "c": [], "d": ["a", "b"], "e": ["b", "c"], "f": ["c"]},
}
# Shapes with no "N": all their parallelism must survive.
SERIES_PARALLEL = ("chain", "diamond", "fan_out", "two_components")

# Lambda, Fargate behind a cache check, and Fargate Spot with its fallback chain.
TARGETS: dict[str, dict[str, Any]] = {
    "lambda": {},
    "fargate_cached": {
        "requests": ir.ResourcesSpec(cpu=8),
        "cache": ir.CachePolicy(enabled=True, version="1"),
    },
    "fargate_spot": {"requests": ir.ResourcesSpec(cpu=8), "interruptible": True, "retries": 1},
}


def _as_maps(spec: ir.WorkflowSpec, every: int = 1) -> ir.WorkflowSpec:
    """Every ``every``-th node becomes a map_task over its list input (prepare, Map, gather)."""
    nodes = tuple(
        ir.MapNode(id=n.id, task=n.task, inputs=n.inputs, mapped=("x",), location=n.location)
        if i % every == 0
        else n
        for i, n in enumerate(spec.nodes)
    )
    return spec.model_copy(update={"nodes": nodes})


def _ancestors(edges: dict[str, list[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for node, deps in edges.items():
        out[node] = set(deps).union(*(out[d] for d in deps)) if deps else set()
    return out


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_node_runs_after_its_upstream_nodes(shape: str, target: str) -> None:
    edges = SHAPES[shape]
    compiled = asl.compile_workflow(dag_spec(edges, **TARGETS[target]))
    assert order_violations(compiled.definition, edges) == []


@pytest.mark.parametrize("every", [1, 2])
@pytest.mark.parametrize("shape", SHAPES)
def test_map_nodes_are_one_chain_that_runs_after_its_upstream_nodes(shape: str, every: int) -> None:
    edges = SHAPES[shape]
    compiled = asl.compile_workflow(_as_maps(dag_spec(edges), every))
    assert order_violations(compiled.definition, edges) == []
    order = AslOrder(compiled.definition)
    for i, node in enumerate(edges):
        if i % every == 0:
            prepare, items, gather = order.tasks[node]  # the item task sits in the Map's processor
            assert len(items) == len(prepare) + 1 == len(gather) + 1
            assert order.before(prepare, items)
            assert order.before(items, gather)


@pytest.mark.parametrize("shape", SERIES_PARALLEL)
def test_series_parallel_shapes_keep_all_parallelism_with_map_nodes(shape: str) -> None:
    edges = SHAPES[shape]
    compiled = asl.compile_workflow(_as_maps(dag_spec(edges)))
    order = AslOrder(compiled.definition)
    ancestors = _ancestors(edges)
    for x, y in itertools.combinations(edges, 2):
        if x not in ancestors[y] and y not in ancestors[x]:
            assert order.concurrent(x, y), f"{x} and {y} are independent but do not run in parallel"
    assert compiled.sync_points == ()


@pytest.mark.parametrize("shape", SERIES_PARALLEL)
def test_series_parallel_shapes_keep_all_parallelism(shape: str) -> None:
    edges = SHAPES[shape]
    compiled = asl.compile_workflow(dag_spec(edges))
    order = AslOrder(compiled.definition)
    ancestors = _ancestors(edges)
    for x, y in itertools.combinations(edges, 2):
        if x not in ancestors[y] and y not in ancestors[x]:
            assert order.concurrent(x, y), f"{x} and {y} are independent but do not run in parallel"
    assert compiled.sync_points == ()


def test_n_shape_adds_one_sync_point_and_keeps_the_rest_parallel() -> None:
    compiled = asl.compile_workflow(dag_spec(SHAPES["n_shape"]))
    assert compiled.sync_points == ("node 'd' waits for 'a' as well (N-shaped dependency)",)
    order = AslOrder(compiled.definition)
    assert order.concurrent("a", "b")
    assert order.concurrent("c", "d")


def test_cross_edge_between_chains_costs_one_wait() -> None:
    plan = _graph.decompose(list(SHAPES["chains_with_cross_edge"]), SHAPES["chains_with_cross_edge"])
    assert [p.describe() for p in plan.sync_points] == [
        "node 'b0' waits for 'a0' as well (N-shaped dependency)"
    ]
    assert plan.root == Series(
        (
            Leaf("a0"),
            Parallel(
                (
                    Series(tuple(Leaf(f"a{i}") for i in range(1, 5))),
                    Series(tuple(Leaf(f"b{i}") for i in range(5))),
                )
            ),
        )
    )


def test_decompose_shapes() -> None:
    assert _graph.decompose([], {}).root is None
    assert _graph.decompose(["a"], {}).root == Leaf("a")
    diamond = _graph.decompose(list(SHAPES["diamond"]), SHAPES["diamond"])
    assert diamond.root == Series((Leaf("a"), Parallel((Leaf("b"), Leaf("c"))), Leaf("d")))
    two = _graph.decompose(list(SHAPES["two_components"]), SHAPES["two_components"])
    assert two.root == Parallel(
        (Series((Leaf("a"), Leaf("b"))), Series((Leaf("x"), Parallel((Leaf("y"), Leaf("z"))))))
    )


@pytest.mark.parametrize("seed", range(25))
def test_random_dags_respect_every_dependency(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - seeded on purpose: reproducible shapes, not secrets
    names = [f"t{i}" for i in range(rng.randint(2, 30))]
    edges = {n: sorted(rng.sample(names[:i], k=min(i, rng.randint(0, 3)))) for i, n in enumerate(names)}
    compiled = asl.compile_workflow(dag_spec(edges))
    assert order_violations(compiled.definition, edges) == []


def test_the_checker_catches_a_wrong_order() -> None:
    """The checker is what makes the tests above meaningful, so prove it can fail."""
    compiled = asl.compile_workflow(dag_spec(SHAPES["diamond"]))
    broken = copy.deepcopy(compiled.definition)
    parallel = broken["States"][broken["States"]["a"]["Next"]]
    branch = parallel["Branches"][0]
    # Move 'a' into a branch of the Parallel that follows it: it now races with 'c'.
    a_state = broken["States"].pop("a")
    broken["StartAt"] = a_state.pop("Next")
    a_state["Next"] = branch["StartAt"]
    branch["States"]["a"] = a_state
    branch["StartAt"] = "a"
    assert order_violations(broken, SHAPES["diamond"]) == ["'c' may start before 'a' finished"]
