"""Load a definition from source text written to a real file, so reported line numbers are exact."""

from __future__ import annotations

import importlib.util
import textwrap
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from stratoflow import DefinitionError


def write_module(folder: Path, source: str) -> Path:
    """Write ``source`` (dedented; its first line is line 1) to a new module file."""
    path = folder / f"sfcase_{uuid.uuid4().hex[:12]}.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def import_path(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def definition_error(folder: Path, source: str) -> tuple[Path, DefinitionError]:
    """Import ``source`` and return the DefinitionError it raises (failing the test if none)."""
    path = write_module(folder, source)
    with pytest.raises(DefinitionError) as info:
        import_path(path)
    return path, info.value
