"""The default cache version covers the task's source and the user code it calls (issue 14)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

import stratoflow
from stratoflow.define import _code_hash

HELPERS = """
import json


def deep(x):
    return x + 1


def unrelated(x):
    return x - 1


class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return self.k * deep(x)
"""

OTHER = """
from codehash_pkg.helpers import deep


def normalise(x):
    return deep(x) * 2
"""

FLOW = """
import json
import math

from stratoflow import task
from codehash_pkg import other
from codehash_pkg.helpers import Scaler, deep
{extra_import}

@task(cache=True)
def uses_function(x: int) -> int:
    return deep(x)


@task(cache=True)
def uses_module_attribute(x: int) -> int:
    return other.normalise(x)


@task(cache=True)
def uses_class(x: int) -> int:
    return Scaler(2).apply(x)


@task(cache=True)
def uses_stdlib(x: int) -> str:
    return json.dumps(math.sqrt(x)) {extra_call}


@task(cache=True, cache_version="7")
def pinned(x: int) -> int:
    return deep(x)
"""


class Project:
    """A user package on sys.path whose files a test edits, then re-imports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pkg = root / "codehash_pkg"
        self.pkg.mkdir()
        (self.pkg / "__init__.py").write_text("", encoding="utf-8")
        self.write("helpers.py", HELPERS)
        self.write("other.py", OTHER)
        self.write("flow.py", FLOW.format(extra_import="", extra_call=""))

    def write(self, name: str, text: str) -> None:
        (self.pkg / name).write_text(textwrap.dedent(text), encoding="utf-8")

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.pkg / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")

    def versions(self) -> dict[str, str]:
        for name in [m for m in sys.modules if m == "codehash_pkg" or m.startswith("codehash_pkg.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        flow: Any = importlib.import_module("codehash_pkg.flow")
        tasks = ("uses_function", "uses_module_attribute", "uses_class", "uses_stdlib", "pinned")
        return {name: getattr(flow, name).spec.cache.version for name in tasks}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Project(tmp_path)
    for name in [m for m in sys.modules if m.startswith("codehash_pkg")]:
        del sys.modules[name]


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_the_same_code_gives_the_same_version(project: Project) -> None:
    assert project.versions() == project.versions()


def test_editing_a_called_helper_changes_the_version_of_its_callers(project: Project) -> None:
    before = project.versions()
    project.edit("helpers.py", "return x + 1", "return x + 100")
    # deep() is called directly, through other.normalise (transitively) and through Scaler.apply.
    assert changed(before, project.versions()) == {"uses_function", "uses_module_attribute", "uses_class"}


def test_editing_a_method_changes_the_version_of_tasks_using_the_class(project: Project) -> None:
    before = project.versions()
    project.edit("helpers.py", "return self.k * deep(x)", "return self.k * deep(x) + 1")
    assert changed(before, project.versions()) == {"uses_class"}


def test_editing_a_helper_in_another_module_reached_by_attribute(project: Project) -> None:
    before = project.versions()
    project.edit("other.py", "return deep(x) * 2", "return deep(x) * 3")
    assert changed(before, project.versions()) == {"uses_module_attribute"}


def test_editing_code_nobody_calls_changes_nothing(project: Project) -> None:
    before = project.versions()
    project.edit("helpers.py", "return x - 1", "return x - 1000")
    assert changed(before, project.versions()) == set()


def test_editing_the_task_itself_changes_its_version(project: Project) -> None:
    before = project.versions()
    project.write("flow.py", FLOW.format(extra_import="", extra_call="+ ''"))
    assert changed(before, project.versions()) == {"uses_stdlib"}


def test_cache_version_pins_it(project: Project) -> None:
    assert project.versions()["pinned"] == "7"
    project.edit("helpers.py", "return x + 1", "return x + 100")
    assert project.versions()["pinned"] == "7"


def test_installed_code_is_not_covered(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Make helpers.py look installed (under a site-packages root): edits to it then do not count.
    roots = (*_code_hash._foreign_roots(), str(project.pkg.resolve() / "helpers.py"))
    monkeypatch.setattr(_code_hash, "_foreign_roots", lambda: roots)
    _code_hash._is_user_file.cache_clear()
    try:
        before = project.versions()
        project.edit("helpers.py", "return x + 1", "return x + 100")
        assert changed(before, project.versions()) == set()
    finally:
        _code_hash._is_user_file.cache_clear()


@pytest.mark.parametrize(
    ("module", "is_user"),
    [(json, False), (pydantic, False), (stratoflow, False), (sys.modules[__name__], True)],
)
def test_what_counts_as_the_users_code(module: Any, is_user: bool) -> None:
    assert _code_hash._is_user_module(module) is is_user


TWO_DATACLASSES = """
from dataclasses import dataclass

from stratoflow import task


@dataclass
class Left:
    x: int


@dataclass
class Right:
    y: str
    z: int = 0


@task
def both(x: int) -> str:
    return repr(Left(x)) + repr(Right(str(x)))


print(both.spec.code_hash)
"""


def test_the_hash_does_not_depend_on_the_string_hash_seed(tmp_path: Path) -> None:
    # Left.__repr__ and Right.__repr__ share a qualname (dataclasses generate them in one helper)
    # and differ in code (two fields, one field):
    # both must count, whatever order the walk (over sets of names) finds them in.
    module = tmp_path / "two_dataclasses.py"
    module.write_text(TWO_DATACLASSES, encoding="utf-8")
    hashes = {
        subprocess.run(
            [sys.executable, str(module)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout.strip()
        for seed in range(6)
    }
    assert len(hashes) == 1, hashes


SHAPES = '''
import functools


def plain(x):
    return x + 1


@functools.lru_cache(maxsize=None)
@functools.wraps(plain)
def decorated(x):
    return x * 2


def multiline_return(x):
    return (
        x,
        x + 1,
    )


def with_inner(x):
    def inner(y):
        return [y for _ in range(
            2)]

    return inner(x)


def docstring_only():
    """Only a docstring."""
'''


def test_a_function_s_source_is_the_lines_inspect_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hash reads a function's lines from its code object's line table, not by tokenizing:
    # for every shape of function the lines must be the ones inspect.getsource returns.
    import inspect

    (tmp_path / "shapes_mod.py").write_text(SHAPES)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("shapes_mod")
    for name in ["plain", "decorated", "multiline_return", "with_inner"]:
        fn = inspect.unwrap(getattr(module, name))
        assert _code_hash._function_source(fn) == inspect.getsource(fn).encode(), name
    # Lines after the last instruction are not code: a body that is only a docstring is its `def`.
    assert _code_hash._function_source(module.docstring_only) == b"def docstring_only():\n"
