"""A task's code hash: its source plus the user code it calls, so editing a helper invalidates the cache.

Covered: the task function's source, and transitively the source of every function and class
it reaches by name (a global, ``module.attribute`` of a user module, a closure cell, a class's
methods) that is defined in the user's own modules, i.e. outside the standard library,
installed packages (site-packages) and stratoflow itself. Not covered: module-level constants
and other data, code reached only at run time (``getattr``, callbacks passed as inputs), and
installed or standard-library code: pin ``cache_version=`` where these matter.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import linecache
import site
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stratoflow.define._location import PACKAGE_DIR

__all__ = ["code_hash"]

# A bound on the walk, so a pathological import graph cannot make decorating slow.
_MAX_OBJECTS = 2000


@functools.cache
def _foreign_roots() -> tuple[str, ...]:
    """Folders whose code is not the user's: the standard library, site-packages, stratoflow."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else ())
    roots.add(site.getusersitepackages())
    roots.add(PACKAGE_DIR)
    return tuple(str(Path(root).resolve()) for root in roots if root)


@functools.cache
def _is_user_file(filename: str) -> bool:
    resolved = str(Path(filename).resolve())
    return not any(resolved == root or resolved.startswith(root + "/") for root in _foreign_roots())


def _is_user_module(module: types.ModuleType | None) -> bool:
    filename = getattr(module, "__file__", None)
    return bool(filename) and str(filename).endswith(".py") and _is_user_file(str(filename))


def _is_user_object(obj: Any) -> bool:
    return _is_user_module(sys.modules.get(getattr(obj, "__module__", "") or ""))


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A code object and those nested in it (inner functions, lambdas, comprehensions)."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _unwrap(obj: Any) -> Any:
    """The plain function behind a task, a partial, a bound method or a ``functools.wraps`` decorator."""
    if isinstance(obj, functools.partial):
        obj = obj.func
    if hasattr(obj, "spec") and callable(getattr(obj, "fn", None)):  # a TaskDef
        obj = obj.fn
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    if isinstance(obj, types.FunctionType):
        obj = inspect.unwrap(obj)
    return obj


def _referenced(fn: types.FunctionType) -> Iterator[Any]:
    """Objects a function reaches by name: globals, attributes of user modules, closure cells."""
    names = {name for code in _codes(fn.__code__) for name in code.co_names}
    modules = []
    for name in names:
        if name in fn.__globals__:
            value = fn.__globals__[name]
            if isinstance(value, types.ModuleType):
                modules.append(value)
            else:
                yield value
    for module in modules:
        if _is_user_module(module):  # `helpers.normalise(x)`: any attribute name the code uses
            yield from (getattr(module, name) for name in names if hasattr(module, name))
    for cell in fn.__closure__ or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue


def _members(cls: type) -> Iterator[Any]:
    for value in vars(cls).values():
        if isinstance(value, staticmethod | classmethod):
            yield value.__func__
        elif isinstance(value, property):
            yield from (f for f in (value.fget, value.fset, value.fdel) if f is not None)
        else:
            yield value


def _function_source(fn: types.FunctionType) -> bytes | None:
    """A function's source lines, decorators included, found from its code object's line table.

    ``inspect.getsource`` finds the same lines by tokenizing from the first one (and compiles
    tokenize's patterns first): a third of decorating a task. The line table already says where
    the body ends. Lines past its last instruction are not code (a trailing comment, a docstring
    that is the whole body) and are left out.
    """
    code = fn.__code__
    linecache.checkcache(code.co_filename)  # a file edited since it was read (as inspect does)
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    if not lines or code.co_firstlineno > len(lines):
        return None
    last = max(
        (end for nested in _codes(code) for _, end, _, _ in nested.co_positions() if end is not None),
        default=code.co_firstlineno,
    )
    return "".join(lines[code.co_firstlineno - 1 : last]).encode()


def _source(obj: Any) -> bytes:
    if isinstance(obj, types.FunctionType):
        found = _function_source(obj)
        if found is not None:
            return found
    try:
        return inspect.getsource(obj).encode()
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        if isinstance(code, types.CodeType):
            return code.co_code
        return str(getattr(obj, "__qualname__", obj)).encode()


def code_hash(fn: Callable[..., Any]) -> str:
    """sha256 of ``fn``'s source and of the user functions and classes it reaches (see the module)."""
    root = _unwrap(fn)
    seen: set[int] = {id(root)}
    # A list, not a dict by name: dataclass-generated methods of different classes share a
    # qualname (``__create_fn__.<locals>.__repr__``), and keeping only the last one found would make
    # the hash depend on the walk's order, which follows set iteration (so PYTHONHASHSEED).
    parts: list[tuple[str, bytes]] = []
    todo: list[Any] = [root]
    while todo and len(seen) < _MAX_OBJECTS:
        obj = todo.pop()
        if isinstance(obj, types.FunctionType):
            todo_next: Iterator[Any] = _referenced(obj)
        elif isinstance(obj, type):
            todo_next = _members(obj)
        else:
            continue
        if obj is not root:
            parts.append((f"{obj.__module__}:{obj.__qualname__}", _source(obj)))
        for reached in todo_next:
            found = _unwrap(reached)
            if (
                isinstance(found, types.FunctionType | type)
                and id(found) not in seen
                and _is_user_object(found)
            ):
                seen.add(id(found))
                todo.append(found)
    digest = hashlib.sha256(_source(root))
    for key, source in sorted(parts):  # sorted, so the order helpers are found in does not matter
        digest.update(b"\0" + key.encode() + b"\0" + source)
    return digest.hexdigest()
