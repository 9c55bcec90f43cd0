"""``stratoflow run FILE``: a file inside a package imports as ``package.module`` (pyflyte's rule)."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from stratoflow.define import load_workflow, module_name_for
from stratoflow.errors import ConfigError
from stratoflow.lower import lower

HELPERS = """\
from stratoflow import task


@task
def double(x: int) -> int:
    return 2 * x
"""

FLOW = """\
from stratoflow import workflow

from ..helpers import double


@workflow
def wf(x: int) -> int:
    return double(x=double(x=x))
"""


def _package(root: Path) -> tuple[str, Path]:
    """``<root>/<pkg>/{__init__,helpers}.py`` and ``<pkg>/flows/{__init__,flow}.py``; returns (pkg, flow)."""
    name = f"sfpkg_{uuid.uuid4().hex[:10]}"
    (root / name / "flows").mkdir(parents=True)
    (root / name / "__init__.py").write_text("")
    (root / name / "helpers.py").write_text(HELPERS)
    (root / name / "flows" / "__init__.py").write_text("")
    flow = root / name / "flows" / "flow.py"
    flow.write_text(textwrap.dedent(FLOW))
    return name, flow


def test_module_name_walks_up_through_init_files(tmp_path: Path) -> None:
    name, flow = _package(tmp_path)
    assert module_name_for(flow) == (tmp_path.resolve(), f"{name}.flows.flow")
    loose = tmp_path / "loose.py"
    loose.write_text("")
    assert module_name_for(loose) == (tmp_path.resolve(), "loose")


def test_a_file_in_a_package_runs_with_its_relative_imports(tmp_path: Path) -> None:
    name, flow = _package(tmp_path)
    wf = load_workflow(str(flow), "wf")
    assert wf(x=3) == 12
    spec = lower(wf)
    assert spec.ref == f"{name}.flows.flow:wf"
    assert spec.tasks["double"].ref == f"{name}.helpers:double"
    # Loading it again (or by module name) gives the same module, not a second copy.
    assert load_workflow(str(flow), "wf") is wf
    assert load_workflow(f"{name}.flows.flow", "wf") is wf


def test_a_file_outside_a_package_keeps_its_plain_name(tmp_path: Path) -> None:
    name = f"sfloose_{uuid.uuid4().hex[:10]}"
    path = tmp_path / f"{name}.py"
    path.write_text(
        HELPERS + "\n\nfrom stratoflow import workflow\n\n\n@workflow\ndef wf(x: int) -> int:\n"
        "    return double(x=x)\n"
    )
    assert lower(load_workflow(str(path), "wf")).tasks["double"].ref == f"{name}:double"


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_workflow(str(tmp_path / "nope.py"), "wf")


SLOW = """\
import threading

from stratoflow import task, workflow

GATE: threading.Event = __import__("builtins").__dict__["_sf_load_gate"]
GATE.wait(30)  # this module is "still importing" until the test opens the gate


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def wf(x: int) -> int:
    return inc(x=x)
"""


def test_a_file_another_thread_is_importing_is_waited_for_not_read_half_made(tmp_path: Path) -> None:
    import builtins
    import importlib
    import sys
    import threading
    import time

    name = f"sfslow_{uuid.uuid4().hex[:10]}"
    path = tmp_path / f"{name}.py"
    path.write_text(SLOW)
    gate = threading.Event()
    builtins._sf_load_gate = gate  # type: ignore[attr-defined]
    sys.path.insert(0, str(tmp_path))
    try:
        # Another thread (an emulated Lambda resolving a task ref) starts importing the module.
        importer = threading.Thread(target=importlib.import_module, args=(name,))
        importer.start()
        while name not in sys.modules:
            time.sleep(0.01)
        loaded: list[object] = []
        loader = threading.Thread(target=lambda: loaded.append(load_workflow(str(path), "wf")))
        loader.start()
        loader.join(0.3)
        assert loader.is_alive()  # waiting for the import, not reading the half-made module
        gate.set()
        loader.join(30)
        importer.join(30)
        assert len(loaded) == 1
        assert lower(loaded[0]).name == "wf"  # type: ignore[arg-type]
    finally:
        gate.set()
        del builtins._sf_load_gate  # type: ignore[attr-defined]
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)
