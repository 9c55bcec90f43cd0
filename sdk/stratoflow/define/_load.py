"""Find a workflow by file path or module name, as ``pyflyte run`` does."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from stratoflow.define._launch_plan import LaunchPlan
from stratoflow.define._workflow import WorkflowDef
from stratoflow.errors import ConfigError

__all__ = ["load_launch_plan", "load_target", "load_workflow", "load_workflows", "module_name_for"]


def module_name_for(path: Path) -> tuple[Path, str]:
    """The folder to put on ``sys.path`` and the module name a file imports as (pyflyte's rule).

    A file inside a package (its folder has an ``__init__.py``) is ``package.module``: walk up
    through the ``__init__.py`` files to the first folder without one, so relative imports work.
    A file outside a package keeps its plain name, with its own folder on ``sys.path``.
    """
    path = path.resolve()
    root, parts = path.parent, [path.stem]
    while (root / "__init__.py").is_file() and root.parent != root:
        parts.insert(0, root.name)
        root = root.parent
    return root, ".".join(parts)


def _import_file(target: str, name: str, path: Path, *, imported: bool) -> ModuleType:
    """The module of file ``path`` as ``name`` (its folder is on ``sys.path``)."""
    if not imported:
        # The import system's own way (its per-module lock): another thread resolving a task
        # ref of this module meanwhile (an emulated Lambda) waits for it to finish loading
        # instead of reading it half made.
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            module = None
        if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == path:
            return module
    # Another module holds the name (or shadows the file): this file, under that name.
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {target}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load_module(target: str) -> ModuleType:
    path = Path(target)
    if target.endswith(".py") or path.exists():
        if not path.is_file():
            raise ConfigError(f"no such file: {target}")
        if "." in path.stem:  # '.flow.py', 'my.flow.py': the import system reads a dot as a package
            suggestion = path.stem.strip(".").replace(".", "_") or "flow"
            raise ConfigError(
                f"cannot load {target}: {path.stem!r} is not a module name (task references import "
                f"the file by it, and a dot names a package); rename it, e.g. {suggestion}.py"
            )
        # The root folder goes on sys.path and the module keeps the name it has there, so
        # task refs ('etl:extract', 'pkg.flows:extract') import the same way in a Lambda bundle.
        root, name = module_name_for(path)
        folder = str(root)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        existing = sys.modules.get(name)
        if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path.resolve():
            # Through the import system, not sys.modules alone: a module another thread is still
            # importing (an emulated Lambda resolving a task ref) is waited for, not read half made.
            return importlib.import_module(name)
        if "." in name:  # a package's module: import its packages first, as `import pkg.mod` does
            try:
                return importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name is None or not name.startswith(exc.name):
                    raise
                raise ConfigError(f"cannot import {target} as {name}: {exc}") from exc
        return _import_file(target, name, path.resolve(), imported=existing is not None)
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


def _find_plan(module: ModuleType, name: str) -> LaunchPlan | None:
    """The plan ``name`` names in a module: a variable holding it, else a plan by that name."""
    found = getattr(module, name, None)
    if isinstance(found, LaunchPlan):
        return found
    plans = [v for v in vars(module).values() if isinstance(v, LaunchPlan) and v.name == name]
    return plans[0] if plans else None


def load_launch_plan(target: str, name: str) -> LaunchPlan:
    """The ``LaunchPlan`` a file or module holds as ``name`` (a variable, or the plan's name)."""
    module = _load_module(target)
    plan = _find_plan(module, name)
    if plan is None:
        available = sorted(v.name for v in vars(module).values() if isinstance(v, LaunchPlan))
        raise ConfigError(
            f"{target} has no launch plan named {name!r} (launch plans there: {', '.join(available) or 'none'})"
        )
    return plan


def load_target(target: str, name: str) -> WorkflowDef[Any, Any] | LaunchPlan:
    """The workflow or, failing that, the launch plan called ``name`` in a file or module."""
    module = _load_module(target)
    found = getattr(module, name, None)
    if isinstance(found, WorkflowDef):
        return found
    plan = _find_plan(module, name)
    if plan is not None:
        return plan
    workflows = sorted(k for k, v in vars(module).items() if isinstance(v, WorkflowDef))
    plans = sorted(v.name for v in vars(module).values() if isinstance(v, LaunchPlan))
    if not plans:  # a module of workflows only: the message load_workflow gives
        raise ConfigError(
            f"{target} has no workflow named {name!r} (workflows there: {', '.join(workflows) or 'none'})"
        )
    raise ConfigError(
        f"{target} has no workflow or launch plan named {name!r} (workflows there: "
        f"{', '.join(workflows) or 'none'}; launch plans: {', '.join(plans)})"
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
