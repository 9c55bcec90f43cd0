"""Package attributes loaded on first use (PEP 562): a name's module is imported when the name is
first read, so a package can export what most programs never touch without importing it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["module_getattr"]


def module_getattr(package: str, names: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps each lazy name to the submodule
    defining it; a name once read is kept in ``namespace`` (the package's globals), so later
    reads are plain attribute reads. The import system (not ``sys.modules``) hands the module
    over: a submodule another thread is still loading is waited for, never given half-made."""

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module_name}"), name)
        namespace[name] = value
        return value

    return __getattr__
