"""``stratoflow run --sandbox``: run the compiled state machine in an in-process emulated AWS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stratoflow import ir
from stratoflow.cache import default_home
from stratoflow.values import materialise_files

__all__ = ["run_sandbox"]


def run_sandbox(spec: ir.WorkflowSpec, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deploy ``spec`` into a fresh emulated stack, run it once, return its outputs."""
    from stratoflow.testing._sandbox import Sandbox  # noqa: PLC0415 - moto is only paid for on --sandbox

    with Sandbox() as sandbox:
        execution = sandbox.run(spec, inputs)
        outputs = execution.outputs()
        # Files must be copied out before the emulated bucket goes away; they keep their names.
        materialise_files(outputs, default_home() / "outputs" / execution.run_id)
        return outputs
