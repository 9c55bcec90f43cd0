"""Patches for Distributed Map: ItemBatcher, tolerated failures, and grammar rewrites."""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path

from stratoflow.testing._patching import Patcher, Undo, install_patch

_BATCHER_KEY = "stratoflow.ItemBatcher:"


def _rewrite_state(state: dict[str, Any]) -> None:
    if state.get("Type") == "Parallel":
        for branch in state.get("Branches", []):
            _rewrite_states(branch)
    if state.get("Type") != "Map":
        return
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if isinstance(state.get("ToleratedFailurePercentage"), int):
        state["ToleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
    if isinstance(processor, dict):
        config = processor.get("ProcessorConfig")
        if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"
        if "ItemBatcher" in state:
            # The grammar has no ItemBatcher; the processor's Comment survives parsing and
            # reaches DistributedIterationComponent._map_run, where the batching happens.
            # base64, because the parser keeps the backslash escapes of quotes in a string.
            encoded = base64.urlsafe_b64encode(json.dumps(state.pop("ItemBatcher")).encode()).decode()
            processor["Comment"] = _BATCHER_KEY + encoded
        _rewrite_states(processor)


def _rewrite_states(machine: dict[str, Any]) -> None:
    for state in machine.get("States", {}).values():
        if isinstance(state, dict):
            _rewrite_state(state)


def rewrite_definition(definition: str) -> str:
    """Rewrite ASL that moto's grammar rejects into an equivalent it accepts.

    Moves ``ItemBatcher`` into the ItemProcessor's Comment, turns an integer
    ``ToleratedFailurePercentage`` into a float and ``ExecutionType: EXPRESS`` into STANDARD.
    """
    try:
        machine = json.loads(definition)
    except ValueError:
        return definition  # let moto's parser report the syntax error
    if not isinstance(machine, dict):
        return definition
    _rewrite_states(machine)
    return json.dumps(machine)


def _batcher_of(component: Any) -> dict[str, Any] | None:
    text = getattr(getattr(component, "_comment", None), "comment", None)
    if not isinstance(text, str) or not text.startswith(_BATCHER_KEY):
        return None
    batcher = json.loads(base64.urlsafe_b64decode(text[len(_BATCHER_KEY) :]))
    return batcher if isinstance(batcher, dict) else None


def resolve_batch_input(template: Any, state_input: Any, context: Any) -> Any:
    """Evaluate a JSONPath ``BatchInput`` template the way AWS does for a Map state.

    A key ending in ``.$`` takes the value at its path: ``$$...`` in the context object
    (the *parent* execution's, e.g. ``$$.Execution.Name``), ``$...`` in the Map state's
    input. Intrinsic functions are not supported here.
    """
    if isinstance(template, list):
        return [resolve_batch_input(v, state_input, context) for v in template]
    if not isinstance(template, dict):
        return template
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$") and isinstance(value, str):
            if value.startswith("$$"):
                out[key[:-2]] = json_path.extract_json("$" + value[2:], context)
            elif value.startswith("$"):
                out[key[:-2]] = json_path.extract_json(value, state_input)
            else:
                raise NotImplementedError(f"BatchInput {key!r}: only JSONPaths are emulated, not {value!r}")
        else:
            out[key] = resolve_batch_input(value, state_input, context)
    return out


def max_items_from_path(path: str, state_input: Any) -> int:
    """``ItemBatcher.MaxItemsPerBatchPath``: a positive integer at ``path`` in the Map's input.

    Raises ``ValueError`` naming the path otherwise (AWS fails the Map with States.Runtime).
    """
    value = json_path.extract_json(path, state_input)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"ItemBatcher MaxItemsPerBatchPath {path} is {value!r}, not a positive integer")
    return value


def batch_items(items: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """Group ``items`` the way Distributed Map's ItemBatcher does.

    Honours MaxItemsPerBatch and MaxInputBytesPerBatch (whichever fills first) and a
    BatchInput (already resolved, see :func:`resolve_batch_input`). Each batch is
    ``{"Items": [...], "BatchInput": ...}``.
    """
    max_items = int(batcher.get("MaxItemsPerBatch") or 0) or len(items) or 1
    max_bytes = int(batcher.get("MaxInputBytesPerBatch") or 0)
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item).encode())
        if current and (len(current) >= max_items or (max_bytes and size + item_size > max_bytes)):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    out: list[dict[str, Any]] = []
    for batch in batches:
        entry: dict[str, Any] = {"Items": batch}
        if "BatchInput" in batcher:
            entry["BatchInput"] = batcher["BatchInput"]
        out.append(entry)
    return out


def install_definition_rewrites() -> Undo:
    """Accept ItemBatcher, integer ToleratedFailurePercentage and EXPRESS child executions.

    moto's ANTLR grammar rejects all three (``mismatched input '"ItemBatcher"'``, ``no viable
    alternative at input '"ToleratedFailurePercentage":50'``, ``expecting '"STANDARD"'``).
    The definition is rewritten before every parse (create and start), and the map run
    batches its items, by MaxItemsPerBatch or MaxItemsPerBatchPath (read from the Map's
    input). BatchInput may be literal or hold JSONPaths (``"run.$":
    "$$.Execution.Name"``, resolved against the parent execution). Limits: no intrinsic
    functions in BatchInput; batching happens before the ItemSelector (AWS selects first);
    EXPRESS children run with STANDARD semantics.
    """

    orig_parse = AmazonStateLanguageParser.parse
    orig_map_run = DistributedIterationComponent._map_run

    def parse(definition: str) -> Any:
        return orig_parse(rewrite_definition(definition))

    def map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
        batcher = _batcher_of(self)
        if batcher is not None:
            if "MaxItemsPerBatchPath" in batcher:
                batcher["MaxItemsPerBatch"] = max_items_from_path(
                    batcher.pop("MaxItemsPerBatchPath"), env.states.get_input()
                )
            if "BatchInput" in batcher:
                context = env.states.context_object.context_object_data
                batcher["BatchInput"] = resolve_batch_input(
                    batcher["BatchInput"], env.states.get_input(), context
                )
            env.stack.append(batch_items(env.stack.pop(), batcher))
        orig_map_run(self, env, eval_input)

    def apply(p: Patcher) -> None:
        p.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))
        p.setattr(DistributedIterationComponent, "_map_run", map_run)

    return install_patch("install_definition_rewrites", apply)


def tolerance_exceeded(failed: int, total: int, count: int, percentage: float) -> bool:
    """AWS's rule: a threshold applies only if set; with neither set, any failure fails the run."""
    if count <= 0 and percentage <= 0:
        return failed > 0
    over_count = count > 0 and failed > count
    over_percentage = percentage > 0 and total > 0 and failed * 100.0 / total > percentage
    return over_count or over_percentage


def install_map_tolerance() -> Undo:
    """Fail a Distributed Map with ``States.ExceedToleratedFailureThreshold``.

    moto parses ToleratedFailureCount/Percentage but ignores them: failed items come back
    as ``null`` and the map run always succeeds. With batching, a failed batch counts as
    one failed item (AWS counts every item in it).
    """

    error_type = StatesErrorNameType.StatesExceedToleratedFailureThreshold
    inner = DistributedIterationComponent._map_run

    def map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
        inner(self, env, eval_input)
        counter = eval_input.map_run_record.item_counter
        total = counter.total.get()  # jobs, so batches when batching: consistent with `failed`
        failed = counter.failed.get() + counter.timed_out.get()
        count = int(eval_input.tolerated_failure_count or 0)
        percentage = float(eval_input.tolerated_failure_percentage or 0.0)
        if tolerance_exceeded(failed, total, count, percentage):
            # moto's EventDetails TypedDict is total=True although events carry one key.
            details: Any = {
                "mapRunFailedEventDetails": MapRunFailedEventDetails(
                    error=error_type.to_name(),
                    cause="The specified tolerated failure threshold was exceeded",
                )
            }
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error_type),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=details,
                )
            )

    def apply(p: Patcher) -> None:
        nonlocal inner
        # Read at install time so it stacks on top of install_definition_rewrites' batching.
        inner = DistributedIterationComponent._map_run
        p.setattr(DistributedIterationComponent, "_map_run", map_run)

    return install_patch("install_map_tolerance", apply)
