"""Validate and encode execution inputs against a workflow's interface, before anything runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stratoflow import ir, values
from stratoflow.errors import InputError
from stratoflow.runtime._runner import literal_from_constant
from stratoflow.values import BlobStore, LiteralRef

__all__ = ["encode_inputs", "validate_inputs"]


def validate_inputs(spec: ir.WorkflowSpec, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce inputs to the workflow's types; raise InputError naming the first bad input."""
    known = {v.name: v for v in spec.inputs}
    for name in inputs:
        if name not in known:
            import difflib  # noqa: PLC0415 - only to suggest a name in an error

            close = difflib.get_close_matches(name, list(known), n=1)
            hint = (
                f" (did you mean '{close[0]}'?)"
                if close
                else f" (its inputs are: {', '.join(known) or 'none'})"
            )
            raise InputError(f"workflow '{spec.name}' has no input '{name}'{hint}", input_name=name)
    coerced: dict[str, Any] = {}
    for variable in spec.inputs:
        if variable.name not in inputs:
            if not variable.has_default:
                raise InputError(
                    f"workflow '{spec.name}' is missing input '{variable.name}' ({variable.type.render()})",
                    input_name=variable.name,
                )
            continue
        try:
            coerced[variable.name] = values.coerce_input(inputs[variable.name], variable.type)
            values.check_value(coerced[variable.name], variable.type)
        except values.ValueTypeError as exc:
            raise InputError(
                f"input '{variable.name}' of workflow '{spec.name}': {exc}", input_name=variable.name
            ) from exc
    return coerced


def encode_inputs(
    spec: ir.WorkflowSpec, coerced: Mapping[str, Any], blobs: BlobStore
) -> dict[str, LiteralRef]:
    """Literals for every workflow input (defaults filled in)."""
    literals: dict[str, LiteralRef] = {}
    for variable in spec.inputs:
        if variable.name in coerced:
            try:
                literals[variable.name] = values.encode(coerced[variable.name], variable.type, blobs)
            except (values.ValueTypeError, values.RemoteFileError) as exc:
                raise InputError(
                    f"input '{variable.name}' of workflow '{spec.name}': {exc}", input_name=variable.name
                ) from exc
        else:
            literals[variable.name] = literal_from_constant(variable.default, variable.type, blobs)
    return literals
