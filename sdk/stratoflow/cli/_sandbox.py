"""``stratoflow run --sandbox``: run the compiled state machine in an in-process emulated AWS."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from stratoflow import ir
from stratoflow.values import Directory, File

__all__ = ["run_sandbox"]


def run_sandbox(spec: ir.WorkflowSpec, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deploy ``spec`` into a fresh emulated stack, run it once, return its outputs."""
    from stratoflow.testing._sandbox import Sandbox  # noqa: PLC0415 - moto is only paid for on --sandbox

    with Sandbox() as sandbox:
        outputs = sandbox.run(spec, inputs).outputs()
        _materialise(outputs)  # files must be downloaded before the emulated bucket goes away
        return outputs


def _materialise(value: Any) -> None:
    if isinstance(value, File | Directory):
        value.download()
    elif isinstance(value, list | tuple):
        for item in value:
            _materialise(item)
    elif isinstance(value, dict):
        for item in value.values():
            _materialise(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _materialise(getattr(value, field.name))
