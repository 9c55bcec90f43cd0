"""IR models stratoflow builds from its own values skip validation (``trusted``) and equal validated ones.

The suite runs with ``STRATOFLOW_CHECK_IR=1`` (tests/conftest.py), so every trusted construction
anywhere in the suite is also validated and compared; these tests pin the helper itself, and that
a local run without that check builds no pydantic schema at all (the point of it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stratoflow import ir


def test_a_trusted_model_equals_the_validated_one() -> None:
    loc = ir.SourceLocation.trusted(path="flows/a.py", line=3, col=1)
    item = ir.TypeRef.trusted(kind="int")
    node = ir.TaskNode.trusted(
        id="n0", task="t", inputs={"x": ir.PromiseBinding.trusted(node="up", output="o0")}, location=loc
    )
    validated = ir.TaskNode(
        id="n0",
        task="t",
        inputs={"x": ir.PromiseBinding(node="up", output="o0")},
        location=ir.SourceLocation(path="flows/a.py", line=3, col=1),
    )
    assert node == validated
    assert hash(loc) == hash(ir.SourceLocation(path="flows/a.py", line=3, col=1))
    assert node.model_dump_json() == validated.model_dump_json()
    assert ir.TypeRef.trusted(kind="list", args=(item,)).render() == "list[int]"


def test_defaults_are_filled_and_mutable_ones_are_not_shared() -> None:
    first = ir.BranchCase.trusted()
    second = ir.BranchCase.trusted()
    assert first == ir.BranchCase()
    assert first.outputs == {}
    assert first.outputs is not second.outputs


def test_a_missing_field_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"SourceLocation.trusted: missing field 'line'"):
        ir.SourceLocation.trusted(path="a.py")


def test_an_unknown_field_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"SourceLocation.trusted: unknown fields \['row'\]"):
        ir.SourceLocation.trusted(path="a.py", line=1, row=2)


def test_the_check_catches_a_value_validation_would_change() -> None:
    # A list where the IR holds a tuple: validation converts it, so a trusted build would differ.
    assert os.environ.get("STRATOFLOW_CHECK_IR") == "1"
    with pytest.raises(TypeError, match=r"TypeRef.trusted built .* validation gives"):
        ir.TypeRef.trusted(kind="list", args=[ir.TypeRef.trusted(kind="int")])


_RUN = """
import json, sys
from stratoflow import map_task, task, workflow

@task(cache=True, cache_version="1")
def inc(x: int) -> int:
    return x + 1

@task
def total(xs: list[int]) -> int:
    return sum(xs)

@workflow
def wf(n: int) -> int:
    return total(xs=[total(xs=map_task(inc)(x=list(range(3)))), inc(x=n)])

out = wf(n=1)
loaded = [m for m in ("pydantic.plugin._loader", "multiprocessing", "stratoflow.ir._protocol") if m in sys.modules]
print(json.dumps([out, loaded]))
"""


def test_a_local_run_builds_no_pydantic_schema(subprocess_env: dict[str, str]) -> None:
    # pydantic loads its plugin registry when it builds a model's first validator or serializer.
    env = {k: v for k, v in subprocess_env.items() if k != "STRATOFLOW_CHECK_IR"}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [8, []]
