"""The IR's records: frozen dataclasses that validate and serialize as the pydantic models they
replaced did, and that let a local run finish without importing pydantic at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pydantic
import pytest

from stratoflow import ir


def test_a_constructor_call_validates_and_coerces_as_a_pydantic_model_did() -> None:
    t = ir.TypeRef(kind="list", args=[ir.TypeRef(kind="int")])  # type: ignore[arg-type] - a list, coerced
    assert isinstance(t.args, tuple) and t == ir.TypeRef.trusted(
        kind="list", args=(ir.TypeRef.trusted(kind="int"),)
    )
    with pytest.raises(pydantic.ValidationError, match="1 validation error for TypeRef"):
        ir.TypeRef(kind="complex")  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="surprise"):
        ir.SourceLocation.model_validate({"path": "a.py", "line": 1, "surprise": True})


def test_unset_fields_are_left_out_of_the_json_so_specs_keep_their_bytes() -> None:
    assert ir.TypeRef(kind="int").model_dump_json() == '{"kind":"int","args":[],"ref":null}'
    spec = ir.NotificationSpec(channel="email", phases=("FAILED",), recipients=("a@b.c",))
    assert "webhook" not in spec.model_dump(mode="json")
    assert ir.NotificationSpec.model_validate_json(spec.model_dump_json()) == spec


def test_a_record_inside_a_pydantic_model_validates_and_dumps_as_itself() -> None:
    class Wire(pydantic.BaseModel):
        type: ir.TypeRef

    wire = Wire.model_validate({"type": {"kind": "list", "args": [{"kind": "str"}]}})
    assert wire.type == ir.TypeRef(kind="list", args=(ir.TypeRef(kind="str"),))
    assert (
        wire.model_dump_json()
        == '{"type":{"kind":"list","args":[{"kind":"str","args":[],"ref":null}],"ref":null}}'
    )
    with pytest.raises(pydantic.ValidationError):
        Wire.model_validate({"type": {"kind": "int", "columns": "nope"}})


def test_model_copy_replaces_fields_without_validating_as_pydantic_did() -> None:
    location = ir.SourceLocation(path="a.py", line=3)
    moved = location.model_copy(update={"line": 4})
    assert (moved.line, location.line, moved.path) == (4, 3, "a.py")


def test_a_local_run_never_imports_pydantic() -> None:
    # What makes a short run fast: pydantic's import and model building were most of it.
    program = (
        "import sys\n"
        "from stratoflow import map_task, task, workflow\n"
        "@task\n"
        "def inc(x: int) -> int:\n    return x + 1\n"
        "@task\n"
        "def make(n: int) -> list[int]:\n    return list(range(n))\n"
        "@task\n"
        "def total(xs: list[int]) -> int:\n    return sum(xs)\n"
        "@workflow\n"
        "def wf(n: int) -> int:\n    return total(xs=map_task(inc)(x=make(n=inc(x=n))))\n"
        "assert wf(n=2) == 6\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))\n"
    )
    env = {
        name: value for name, value in os.environ.items() if name != "STRATOFLOW_CHECK_IR"
    }  # it validates all
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout == "[]\n", done.stderr
