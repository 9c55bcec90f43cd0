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
