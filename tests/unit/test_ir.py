"""The IR is pure, frozen, versioned data: lowered workflows survive a JSON round trip unchanged."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, NamedTuple

import pydantic
import pytest

from stratoflow import File, ir, map_task, task, workflow
from stratoflow.define import resolve_task
from stratoflow.lower import lower
from tests._examples import EXAMPLE_WORKFLOWS, load_example


class Span(NamedTuple):
    start: int
    end: int


@task
def shift(x: int, by: int = 1) -> int:
    return x + by


@task
def span(xs: list[int]) -> Span:
    return Span(min(xs), max(xs))


@task
def size(data: File) -> int:
    return len(data.open().read())


@workflow
def sub(x: int) -> int:
    return shift(x=x, by=2)


@workflow
def everything(xs: list[int], data: File, label: str | None = None) -> tuple[int, list[int | None], int]:
    """Every binding kind: input, promise, literal, list, map with partial and ratio, sub-workflow."""
    shifted = map_task(functools.partial(shift, by=3), concurrency=2, min_success_ratio=0.5)(x=xs)
    bounds = span(xs=[sub(x=size(data=data)), shift(x=7), 4])
    return bounds.start, shifted, shift(x=bounds.end)


def _specs() -> list[tuple[str, ir.WorkflowSpec]]:
    specs = [(f"{file}:{name}", lower(load_example(file, name))) for file, name in EXAMPLE_WORKFLOWS]
    return [*specs, ("everything", lower(everything))]


SPECS = _specs()
IDS = [name for name, _ in SPECS]


@pytest.mark.parametrize(("name", "spec"), SPECS, ids=IDS)
def test_json_round_trip_is_lossless(name: str, spec: ir.WorkflowSpec) -> None:
    text = spec.model_dump_json()
    again = ir.WorkflowSpec.model_validate_json(text)
    assert again == spec
    assert again.model_dump_json() == text


@pytest.mark.parametrize(("name", "spec"), SPECS, ids=IDS)
def test_schema_version_is_in_the_json(name: str, spec: ir.WorkflowSpec) -> None:
    data = json.loads(spec.model_dump_json())
    assert data["schema_version"] == ir.SCHEMA_VERSION == 1


def _walk(value: Any, path: str = "$") -> list[str]:
    """Paths of anything in a dumped model that is not plain JSON data."""
    if value is None or isinstance(value, bool | int | float | str):
        return []
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in _walk(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        bad = [f"{path}.<key {k!r}>" for k in value if not isinstance(k, str)]
        return bad + [p for k, v in value.items() for p in _walk(v, f"{path}.{k}")]
    return [f"{path}: {type(value).__name__}"]


@pytest.mark.parametrize(("name", "spec"), SPECS, ids=IDS)
def test_ir_holds_no_callables_only_data(name: str, spec: ir.WorkflowSpec) -> None:
    assert _walk(spec.model_dump()) == []
    assert json.loads(spec.model_dump_json()) == spec.model_dump(mode="json")


@pytest.mark.parametrize(("name", "spec"), SPECS, ids=IDS)
def test_tasks_are_referenced_by_import_path(name: str, spec: ir.WorkflowSpec) -> None:
    assert spec.tasks
    for task_spec in spec.tasks.values():
        module, _, qualname = task_spec.ref.partition(":")
        assert module and qualname
        assert callable(resolve_task(task_spec.ref))
        assert len(task_spec.code_hash) == 64
    for node in spec.nodes:
        assert node.task in spec.tasks
        assert node.location.line > 0


def test_everything_lowers_to_the_expected_graph() -> None:
    spec = lower(everything)
    assert [(n.kind, n.id) for n in spec.nodes] == [
        ("map", "map_shift"),
        ("task", "size"),
        ("task", "sub__shift"),
        ("task", "shift"),
        ("task", "span"),
        ("task", "shift_2"),
    ]
    mapped = spec.node("map_shift")
    assert isinstance(mapped, ir.MapNode)
    assert mapped.mapped == ("x",)
    assert (mapped.concurrency, mapped.min_success_ratio) == (2, 0.5)
    assert mapped.inputs["by"] == ir.LiteralBinding(value=3)
    assert mapped.inputs["x"] == ir.InputBinding(name="xs")
    joined = spec.node("span").inputs["xs"]
    assert joined == ir.ListBinding(
        items=(
            ir.PromiseBinding(node="sub__shift", output="o0"),
            ir.PromiseBinding(node="shift", output="o0"),
            ir.LiteralBinding(value=4),
        )
    )
    assert spec.node("span").upstream() == ["sub__shift", "shift"]
    assert spec.node("shift_2").inputs["x"] == ir.PromiseBinding(node="span", output="end")
    assert spec.output_bindings["o1"] == ir.PromiseBinding(node="map_shift", output="o0")
    assert spec.outputs[1].type.render() == "list[Optional[int]]"
    assert spec.inputs[2].type.render() == "Optional[str]"


def test_nodes_are_in_topological_order() -> None:
    for _, spec in SPECS:
        seen: set[str] = set()
        for node in spec.nodes:
            assert set(node.upstream()) <= seen, node.id
            seen.add(node.id)


def test_models_are_frozen() -> None:
    spec = lower(everything)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "renamed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.nodes[0].id = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.tasks["shift"].retries = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.inputs[0].type.kind = "str"  # type: ignore[misc]
    assert spec.name == "everything"


def test_unknown_fields_are_rejected() -> None:
    data = json.loads(lower(everything).model_dump_json())
    data["surprise"] = 1
    with pytest.raises(pydantic.ValidationError, match="surprise"):
        ir.WorkflowSpec.model_validate(data)
    data.pop("surprise")
    data["nodes"][0]["kind"] = "lambda"
    with pytest.raises(pydantic.ValidationError):
        ir.WorkflowSpec.model_validate(data)


def test_lowering_is_deterministic() -> None:
    first = lower(everything).model_dump_json()
    # lower() memoises per workflow object; a fresh builder must produce the same JSON.
    from stratoflow.lower import _lower

    _lower._CACHE.clear()
    assert lower(everything).model_dump_json() == first


def test_type_refs_render_like_python() -> None:
    t = ir.TypeRef(
        kind="dict", args=(ir.TypeRef(kind="str"), ir.TypeRef(kind="list", args=(ir.TypeRef(kind="file"),)))
    )
    assert t.render() == "dict[str, list[File]]"
    assert ir.TypeRef(kind="dataclass", ref="pkg.mod:Outer.Inner").render() == "Outer.Inner"
