"""A @dynamic (or a @workflow) may return a list, dict or NamedTuple of promises (Flyte's idiom)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratoflow import ir, task, workflow
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define._dynamic import _interface_of
from stratoflow.lower import lower
from tests.local import _dynamic_outputs as flows


def run(wf: Any, home: Path, **inputs: Any) -> Any:
    return run_local(lower(wf), inputs, RunOptions(home=home, progress=False))


def test_a_dynamic_returning_a_list_of_1000_promises(tmp_path: Path) -> None:
    result = run(flows.fan, tmp_path, n=1000)
    assert result.outputs == {"o0": list(range(1, 1001))}
    assert len([n for n in result.executed if n.startswith("incs__inc")]) == 1000


def test_a_dynamic_returning_a_dict_of_promises(tmp_path: Path) -> None:
    @workflow
    def wf(n: int) -> dict[str, str]:
        return flows.labelled(n=n)

    assert run(wf, tmp_path, n=3).outputs == {"o0": {"k0": "#0", "k1": "#1", "k2": "#2"}}


def test_a_dynamic_returning_a_namedtuple_of_promises(tmp_path: Path) -> None:
    @workflow
    def wf(n: int) -> flows.Stats:
        return flows.bounds(n=n)

    assert run(wf, tmp_path, n=5).outputs == {"low": 1, "high": 6}
    assert wf(n=5) == flows.Stats(low=1, high=6)  # shaped like the annotation when called


def test_containers_nest(tmp_path: Path) -> None:
    @workflow
    def wf(n: int) -> dict[str, list[int]]:
        return flows.nested(n=n)

    assert run(wf, tmp_path, n=5).outputs == {"o0": {"even": [1, 3, 5], "odd": [2, 4]}}


def test_a_workflow_returns_a_list_mixing_promises_and_constants(tmp_path: Path) -> None:
    spec = lower(flows.listed)
    binding = spec.output_bindings["o0"]
    assert isinstance(binding, ir.ListBinding)
    assert [item.kind for item in binding.items] == ["promise", "promise", "literal"]
    assert run(flows.listed, tmp_path, a=1, b=2).outputs == {"o0": [2, 3, 7]}


def test_a_workflow_returns_a_dict_of_promises_as_a_dict_binding(tmp_path: Path) -> None:
    spec = lower(flows.keyed)
    assert isinstance(spec.output_bindings["o0"], ir.DictBinding)
    assert ir.WorkflowSpec.model_validate_json(spec.model_dump_json()) == spec  # round-trips as JSON
    assert run(flows.keyed, tmp_path, a=1).outputs == {"o0": {"one": 2, "two": 3}}
    assert flows.keyed(a=1) == {"one": 2, "two": 3}


def test_a_dynamic_namedtuple_return_is_shaped_from_the_resolved_annotation() -> None:
    interface = _interface_of(flows.bounds.spec, flows.bounds.fn)
    assert interface.output_class is flows.Stats  # the module uses `from __future__ import annotations`
    assert interface.shape([1, 2]) == flows.Stats(low=1, high=2)


def test_a_dict_of_promises_feeds_a_task_input(tmp_path: Path) -> None:
    @task
    def total(parts: dict[str, int]) -> int:
        return sum(parts.values())

    @workflow
    def wf(a: int) -> int:
        return total(parts={"x": flows.inc(x=a), "y": 10})

    assert run(wf, tmp_path, a=1).outputs == {"o0": 12}
