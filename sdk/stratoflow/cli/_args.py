"""Execution inputs from the command line: ``--inputs JSON`` and ``--NAME VALUE`` pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.errors import InputError

__all__ = ["parse_inputs"]


def _from_text(text: str, t: ir.TypeRef, name: str) -> Any:
    kind = t.kind
    if kind == "optional":
        return None if text.lower() in ("none", "null") else _from_text(text, t.args[0], name)
    if kind in ("str", "file", "directory"):
        return text
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return lowered in ("true", "1", "yes")
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"input '{name}' expects {t.render()}, got {text!r}", input_name=name) from exc


def parse_inputs(spec: ir.WorkflowSpec, inputs_json: str | None, pairs: list[str]) -> dict[str, Any]:
    """Merge ``--inputs`` (JSON text or a .json file) with ``--name value`` flags (flags win)."""
    inputs: dict[str, Any] = {}
    if inputs_json:
        text = (
            Path(inputs_json).read_text()
            if inputs_json.endswith(".json") and Path(inputs_json).is_file()
            else inputs_json
        )
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"--inputs is not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError("--inputs must be a JSON object of input names to values")
        inputs.update(loaded)
    types = {v.name: v.type for v in spec.inputs}
    index = 0
    while index < len(pairs):
        flag = pairs[index]
        if not flag.startswith("--"):
            raise InputError(f"unexpected argument {flag!r}; pass inputs as --name value")
        name, sep, value = flag[2:].partition("=")
        name = name.replace("-", "_")
        if not sep:
            if index + 1 >= len(pairs):
                raise InputError(f"input '{name}' needs a value (--{name} VALUE)", input_name=name)
            value = pairs[index + 1]
            index += 1
        index += 1
        if name not in types:
            inputs[name] = value  # validate_inputs reports the unknown name
            continue
        inputs[name] = _from_text(value, types[name], name)
    return inputs
