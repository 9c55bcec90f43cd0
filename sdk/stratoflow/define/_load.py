"""Find a workflow by file path or module name, as ``pyflyte run`` does."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from stratoflow.define._workflow import WorkflowDef
from stratoflow.errors import ConfigError

__all__ = ["load_workflow", "load_workflows"]


def _load_module(target: str) -> ModuleType:
    path = Path(target)
    if target.endswith(".py") or path.exists():
        if not path.is_file():
            raise ConfigError(f"no such file: {target}")
        # The file's folder goes on sys.path and the module keeps its plain name, so task
        # refs ('etl:extract') import the same way in a Lambda bundle.
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        name = path.stem
        existing = sys.modules.get(name)
        if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path.resolve():
            return existing
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot import {target}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    # The current folder first, as `python -m` has it: the `stratoflow` script's own
    # sys.path starts at its bin folder, where `stratoflow run mymod wf` would never look.
    cwd = str(Path.cwd())
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"no file or module named {target!r}") from exc


def load_workflow(target: str, name: str) -> WorkflowDef[Any, Any]:
    """The ``@workflow`` called ``name`` in a file or module (definition errors propagate)."""
    module = _load_module(target)
    found = getattr(module, name, None)
    if isinstance(found, WorkflowDef):
        return found
    available = sorted(k for k, v in vars(module).items() if isinstance(v, WorkflowDef))
    raise ConfigError(
        f"{target} has no workflow named {name!r} (workflows there: {', '.join(available) or 'none'})"
    )


def load_workflows(target: str) -> list[WorkflowDef[Any, Any]]:
    """Every ``@workflow`` a file or module defines (not those it imports), by name."""
    module = _load_module(target)
    found = [
        value
        for _, value in sorted(vars(module).items())
        if isinstance(value, WorkflowDef) and getattr(value.fn, "__module__", None) == module.__name__
    ]
    if not found:
        raise ConfigError(f"{target} defines no workflow")
    return found
