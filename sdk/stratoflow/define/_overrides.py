"""Call-site overrides: ``task(x=...).with_overrides(requests=..., retries=...)`` (Flyte's form).

The recorded call's task is replaced by a copy whose options are the task's own with the
overrides applied (:meth:`TaskOptions.replace`, validated again), so every backend sees an
ordinary task spec: routing follows the overridden requests (a Lambda task that now asks for
32 GiB runs on Fargate) and the cache key follows the overridden options.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stratoflow import ir
from stratoflow.define._options import OptionsError
from stratoflow.define._task import TaskDef, spec_for_options
from stratoflow.define._trace import MapCall, TaskCall, Trace

__all__ = ["OVERRIDABLE", "override_call"]

OVERRIDABLE = (
    "accelerator",
    "cache",
    "cache_serialize",
    "cache_version",
    "container_image",
    "interruptible",
    "limits",
    "name",
    "requests",
    "retries",
    "timeout",
)
"""The keywords ``with_overrides`` takes (the task options Flyte lets a call site override)."""


def override_call(trace: Trace, node_id: str, overrides: dict[str, Any], location: ir.SourceLocation) -> None:
    """Apply ``overrides`` to the call ``node_id`` of the current scope (problems are recorded)."""
    index = next((i for i, call in enumerate(trace.calls) if call.node_id == node_id), None)
    call = None if index is None else trace.calls[index]
    if call is None or not isinstance(call, TaskCall | MapCall):
        trace.problem(
            f"with_overrides() applies to a task or map_task call of the same scope; node '{node_id}' is not one",
            location,
        )
        return
    what = f"with_overrides() of node '{node_id}'"
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        trace.problem(
            f"{what}: unknown override(s) {', '.join(unknown)}; overrides are: {', '.join(OVERRIDABLE)}",
            location,
        )
        return
    target = call.target
    try:
        options = target.options.replace(**overrides)
    except OptionsError as exc:
        for message in exc.messages(what):
            trace.problem(message, location)
        return
    spec = spec_for_options(target.spec, options)
    overridden: TaskDef[Any, Any] = dataclasses.replace(target, spec=spec, options=options)
    assert index is not None  # noqa: S101 - found above
    trace.calls[index] = call._replace(target=overridden)
