"""flytekit's ``flytekit.core`` paths, ``Echo`` and ``HashMethod``: flytesnacks' ``conditional.py`` and
``task_cache.py`` run with their imports changed, and every ``stratoflow.core`` name is stratoflow's own."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

import stratoflow
from stratoflow import Echo, FlyteContextManager, HashMethod
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import DefinitionError, TaskFailedError
from stratoflow.lower import lower
from tests.flyte_compat.flows.advanced_composition import conditional, decorating_workflows
from tests.flyte_compat.flows.development_lifecycle import failure_node, task_cache


def _run(wf: Any, home: Path, inputs: dict[str, Any] | None = None) -> Any:
    return run_local(lower(wf), inputs or {}, RunOptions(home=home, progress=False))


def test_the_echo_branch_hands_back_its_input(tmp_path: Path) -> None:
    # seed 5 tosses tails (the echo branch), seed 7 heads (the circumference), as flytekit runs them.
    assert _run(conditional.noop_in_conditional, tmp_path, {"radius": 0.5, "seed": 5}).outputs == {"o0": 0.5}
    assert _run(conditional.noop_in_conditional, tmp_path, {"radius": 0.5, "seed": 7}).outputs == {"o0": 3.14}
    assert conditional.consume_task_output(radius=0.4) == pytest.approx(0.5024)


def test_echo_outputs_are_its_inputs_by_name() -> None:
    pair = Echo(name="pair", inputs={"a": int, "b": str})
    assert pair(a=1, b="x") == (1, "x")
    assert [v.name for v in pair.spec.outputs] == [v.name for v in pair.spec.inputs] == ["a", "b"]
    assert Echo(name="nothing")() is None


def test_an_echo_input_of_an_unsupported_type_is_a_definition_error() -> None:
    with pytest.raises(
        DefinitionError, match=r"test_flyte_core_paths_local.py:\d+:\d+: error: echo task 'bad' input 'x'"
    ):
        Echo(name="bad", inputs={"x": object})


def test_hash_method_outputs_hit_the_cache_by_contents(tmp_path: Path) -> None:
    # The second of the two ordered calls of the cached task is a hit: the frame is keyed by contents.
    run = _run(task_cache.cached_dataframe_wf, tmp_path)
    assert run.cache_hits == {"cached_data_processing_task_2"}
    assert "cached_data_processing_task" in run.executed
    again = _run(task_cache.cached_dataframe_wf, tmp_path)  # a new frame object, the same contents
    assert again.cache_hits == {"cached_data_processing_task", "cached_data_processing_task_2"}
    assert HashMethod(len).calculate([1, 2]) == 2


@pytest.mark.parametrize(
    ("path", "name", "same_as"),
    [
        ("stratoflow.core.task", "task", stratoflow.task),
        ("stratoflow.core.task", "Echo", Echo),
        ("stratoflow.core.workflow", "workflow", stratoflow.workflow),
        ("stratoflow.core.workflow", "WorkflowFailurePolicy", stratoflow.WorkflowFailurePolicy),
        ("stratoflow.core.workflow", "ImperativeWorkflow", stratoflow.Workflow),
        ("stratoflow.core.dynamic_workflow_task", "dynamic", stratoflow.dynamic),
        ("stratoflow.core.node_creation", "create_node", stratoflow.create_node),
        ("stratoflow.core.condition", "conditional", stratoflow.conditional),
        ("stratoflow.core.map_task", "map_task", stratoflow.map_task),
        ("stratoflow.core.array_node_map_task", "map_task", stratoflow.map_task),
        ("stratoflow.core.launch_plan", "LaunchPlan", stratoflow.LaunchPlan),
        ("stratoflow.core.resources", "Resources", stratoflow.Resources),
        ("stratoflow.core.hash", "HashMethod", HashMethod),
        ("stratoflow.core.context_manager", "FlyteContextManager", FlyteContextManager),
        ("stratoflow.types.error", "FlyteError", stratoflow.FlyteError),
        ("stratoflow.types.error.error", "FlyteError", stratoflow.FlyteError),
    ],
)
def test_flytekits_module_paths_name_stratoflows_objects(path: str, name: str, same_as: object) -> None:
    assert getattr(importlib.import_module(path), name) is same_as


def test_a_workflow_decorator_orders_setup_and_teardown_around_the_body(tmp_path: Path) -> None:
    # flytesnacks' decorating_workflows.py reads ctx.compilation_state.nodes while the body is traced.
    spec = lower(decorating_workflows.decorating_workflow)
    assert {n.id: tuple(n.upstream()) for n in spec.nodes} == {
        "setup": (),
        "t1": ("setup",),
        "t2": ("t1",),
        "teardown": ("t2",),
    }
    assert _run(decorating_workflows.decorating_workflow, tmp_path, {"x": 10.0}).outputs == {"o0": 81.0}


def test_the_compilation_state_is_none_outside_a_body_and_its_nodes_read_outputs() -> None:
    assert FlyteContextManager.current_context().compilation_state is None
    seen: list[Any] = []

    @stratoflow.task
    def one() -> int:
        return 1

    @stratoflow.workflow
    def body() -> int:
        one()
        nodes = FlyteContextManager.current_context().compilation_state.nodes  # type: ignore[union-attr]
        seen.append(nodes)
        return nodes[0].o0

    assert [n.node_id for n in seen[0]] == ["one"]
    assert lower(body).output_bindings["o0"].node == "one"  # type: ignore[union-attr]  # the call's output
    assert body() == 1


def test_the_failure_node_examples_run_their_handlers_and_keep_the_error(tmp_path: Path) -> None:
    # flytesnacks' failure_node.py: a task handler (with the error) and a workflow handler.
    for wf, handler in ((failure_node.wf1, "clean_up"), (failure_node.wf2, "clean_up")):
        spec = lower(wf)
        assert spec.on_failure is not None and spec.tasks[spec.on_failure.task].name == handler
        with pytest.raises(TaskFailedError) as failed:
            run_local(spec, {}, RunOptions(home=tmp_path, progress=False))
        assert failed.value.node == "t1" and failed.value.error_type == "ValueError"
    bindings = lower(failure_node.wf2).on_failure.inputs  # type: ignore[union-attr]
    assert set(bindings) == {"name"}  # the workflow handler passes no err: clean_up's default None
