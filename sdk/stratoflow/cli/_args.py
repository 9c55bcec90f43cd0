"""Execution inputs from the command line: ``--inputs JSON|@FILE`` and ``--NAME VALUE`` pairs.

Every problem is an ``InputError`` of one line naming the input (the CLI exits 2 on it),
found before anything runs: a bad value, a missing ``File``/``Directory`` path, text that
is not UTF-8 (a non-UTF-8 ``--inputs`` file, or a lone surrogate from undecodable argv bytes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.errors import InputError

__all__ = ["RUN_OPTIONS", "parse_inputs", "value_from_text"]

# `stratoflow run`'s own options: after the workflow name they are inputs, so a workflow
# without such an input most likely got an option in the wrong place (said in the error).
RUN_OPTIONS = frozenset(
    {"local", "sandbox", "remote", "inputs", "json", "workers", "no_cache", "overwrite_cache", "stack"}
)


def _from_text(text: str, t: ir.TypeRef, name: str) -> Any:
    kind = t.kind
    if kind == "optional":
        return None if text.lower() in ("none", "null") else _from_text(text, t.args[0], name)
    if kind in (
        "str",
        "file",
        "directory",
        "datetime",
        "date",
        "decimal",
        "enum",
        "dataframe",
        "arrow_table",
        "structured_dataset",
    ):
        return text  # the codec's coercion parses ISO dates, decimals, enum values/names, frame file paths
    try:
        if kind == "int":
            return int(text)
        if kind in ("float", "timedelta"):  # a timedelta as seconds
            return float(text)
        if kind == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"input '{name}' expects {t.render()}, got {text!r}", input_name=name) from exc


def value_from_text(text: str, t: ir.TypeRef, name: str) -> Any:
    """A command-line value of type ``t`` (``name`` is for the error), as ``--NAME VALUE`` reads it."""
    return _from_text(text, t, name)


def _inputs_text(spec_arg: str) -> str:
    """``--inputs``' JSON text: inline, ``@path``, or (for convenience) a path ending in .json."""
    if spec_arg.startswith("@") or (spec_arg.endswith(".json") and not spec_arg.lstrip().startswith("{")):
        path = Path(spec_arg.removeprefix("@"))
        if not path.is_file():
            raise InputError(f"--inputs: file {str(path)!r} does not exist")
        data = path.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"--inputs: file {str(path)!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from exc
    return spec_arg


def _check_text(value: Any, name: str) -> None:
    """Reject lone surrogates (undecodable argv bytes, or a JSON "\\ud800"): nothing can encode them."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(
                f"input '{name}' is not valid UTF-8 text ({value[exc.start]!r} at position {exc.start})",
                input_name=name,
            ) from exc
    elif isinstance(value, list):
        for item in value:
            _check_text(item, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, name)
            _check_text(item, name)


def _check_paths(value: Any, t: ir.TypeRef, name: str) -> None:
    """A local ``File``/``Directory`` input must exist (remote ``s3://`` ones are checked when read)."""
    if t.kind == "optional" and value is not None:
        _check_paths(value, t.args[0], name)
    elif t.kind == "list" and isinstance(value, list):
        for item in value:
            _check_paths(item, t.args[0], name)
    elif (
        t.kind in ("file", "directory", "dataframe", "arrow_table", "structured_dataset")
        and isinstance(value, str)
        and "://" not in value
    ):
        path = Path(value)
        # A StructuredDataset may also be a folder of Parquet files, as Flyte writes one.
        exists = {"directory": path.is_dir(), "structured_dataset": path.exists()}.get(t.kind, path.is_file())
        if not exists:
            what = "directory" if t.kind == "directory" else "file"
            raise InputError(f"input '{name}': {what} {value!r} does not exist", input_name=name)


def parse_inputs(spec: ir.WorkflowSpec, inputs_json: str | None, pairs: list[str]) -> dict[str, Any]:
    """Merge ``--inputs`` (JSON text, ``@file.json`` or ``file.json``) with ``--name value`` pairs (pairs win)."""
    inputs: dict[str, Any] = {}
    if inputs_json:
        try:
            loaded = json.loads(_inputs_text(inputs_json))
        except json.JSONDecodeError as exc:
            raise InputError(f"--inputs is not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError("--inputs must be a JSON object of input names to values")
        inputs.update(loaded)
    types = {v.name: v.type for v in spec.inputs}
    index = 0
    while index < len(pairs):
        flag = pairs[index]
        if not flag.startswith("--") or flag == "--":
            raise InputError(f"unexpected argument {flag!r}; pass inputs as --name value")
        name, sep, value = flag[2:].partition("=")
        name = name.replace("-", "_")
        if name not in types and name in RUN_OPTIONS:
            option = "--" + name.replace("_", "-")
            raise InputError(
                f"workflow '{spec.name}' has no input '{name}'; {option} is an option of "
                f"stratoflow run and goes before FILE_OR_MODULE",
                input_name=name,
            )
        if not sep:
            if index + 1 >= len(pairs):
                raise InputError(f"input '{name}' needs a value (--{name} VALUE)", input_name=name)
            value = pairs[index + 1]
            index += 1
        index += 1
        if name not in types:
            inputs[name] = value  # validate_inputs reports the unknown name
            continue
        _check_text(value, name)
        inputs[name] = _from_text(value, types[name], name)
    for name, value in inputs.items():
        _check_text(name, name)
        _check_text(value, name)
        if name in types:
            _check_paths(value, types[name], name)
    return inputs
