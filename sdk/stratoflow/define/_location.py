"""Where in the user's code something happened: caller frames and annotation positions."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from stratoflow import ir

__all__ = [
    "PACKAGE_DIR",
    "caller_location",
    "display_path",
    "function_location",
    "parameter_location",
    "return_location",
]

PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def display_path(filename: str) -> str:
    """Path relative to the working directory when inside it (what editors link best)."""
    return _display_path(filename, os.getcwd())  # noqa: PTH109 - a str key for the cache, per call


@functools.lru_cache(maxsize=512)
def _display_path(filename: str, cwd: str) -> str:
    # Cached: a @dynamic body calling a task a thousand times asks for the same file each time.
    try:
        rel = os.path.relpath(filename, cwd)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else rel


@functools.lru_cache(maxsize=512)
def _positions(code: CodeType) -> tuple[tuple[int | None, int | None, int | None, int | None], ...]:
    # Cached per code object: a loop in a workflow body locates the same code once per call.
    return tuple(code.co_positions())


def _frame_location(frame: FrameType) -> ir.SourceLocation:
    code = frame.f_code
    line, col = frame.f_lineno, 0
    positions = _positions(code)
    index = frame.f_lasti // 2
    if 0 <= index < len(positions):
        start_line, _, start_col, _ = positions[index]
        if start_line is not None:
            line = start_line
        if start_col is not None:
            col = start_col + 1
    return ir.SourceLocation.trusted(path=display_path(code.co_filename), line=line, col=col)


def caller_location() -> ir.SourceLocation:
    """Location of the innermost frame outside the stratoflow package (the user's line)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ir.SourceLocation.trusted(path="<unknown>", line=0)
    return _frame_location(frame)


def function_location(fn: Callable[..., Any]) -> ir.SourceLocation:
    """Location of a function's ``def`` line."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ir.SourceLocation.trusted(path="<unknown>", line=0)
    return ir.SourceLocation.trusted(path=display_path(code.co_filename), line=code.co_firstlineno, col=1)


@functools.cache
def _parsed(fn: Callable[..., Any]) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int, int] | None:
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    source = "".join(lines)
    dedented = textwrap.dedent(source)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        tree = ast.parse(dedented)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node, first_line - 1, indent
    return None


def parameter_location(fn: Callable[..., Any], name: str | None) -> ir.SourceLocation:
    """Location of a parameter's annotation (``name=None``: the return annotation), else the def."""
    fallback = function_location(fn)
    parsed = _parsed(fn)
    if parsed is None:
        return fallback
    node, line_offset, indent = parsed
    target: ast.expr | ast.arg | None = node.returns if name is None else None
    if name is not None:
        variadic = (a for a in (node.args.vararg, node.args.kwarg) if a is not None)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs, *variadic):
            if arg.arg == name:
                target = arg.annotation or arg
    if target is None:
        return ir.SourceLocation.trusted(path=fallback.path, line=node.lineno + line_offset, col=indent + 1)
    return ir.SourceLocation.trusted(
        path=fallback.path, line=target.lineno + line_offset, col=target.col_offset + indent + 1
    )


def _own_returns(node: ast.AST) -> list[ast.Return]:
    """The ``return`` statements of a function body, not of functions nested in it."""
    found: list[ast.Return] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(child, ast.Return):
            found.append(child)
        found.extend(_own_returns(child))
    return found


def return_location(fn: Callable[..., Any]) -> ir.SourceLocation:
    """Where a body's returned value is written: its one ``return``, else the return annotation."""
    parsed = _parsed(fn)
    if parsed is None:
        return function_location(fn)
    node, line_offset, indent = parsed
    returns = _own_returns(node)
    if len(returns) != 1:
        return parameter_location(fn, None)
    return ir.SourceLocation.trusted(
        path=function_location(fn).path,
        line=returns[0].lineno + line_offset,
        col=returns[0].col_offset + indent + 1,
    )
