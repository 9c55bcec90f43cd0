"""Patches for moto's Step Functions interpreter (moto.stepfunctions.parser), pinned to moto 5.2.5."""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import jsonata
from jsonpath_ng.ext.parser import parse
from moto.core.responses import ActionResult
from moto.stepfunctions.parser import utils
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
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as callback_mod,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.jsonata import jsonata as jsonata_mod
from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from stratoflow.testing._patching import Patcher, Undo, install_patch

_BATCHER_KEY = "stratoflow.ItemBatcher:"


def rebind_everywhere(p: Patcher, old: object, new: object, attr: str) -> None:
    """Rebind ``attr`` in every loaded moto module where it is ``old``.

    moto's modules do ``from x import f``, so replacing ``x.f`` alone misses their copies.
    """
    for module in list(sys.modules.values()):
        if (
            isinstance(module, ModuleType)
            and module.__name__.startswith("moto.")
            and vars(module).get(attr) is old
        ):
            p.setattr(module, attr, new)


# --- timers ------------------------------------------------------------------------------

_TIMER_SCALE = [0.001]


class _ScaledTime:
    """Stands in for the ``time`` module inside ``retrier_decl``: only ``sleep`` is scaled."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * _TIMER_SCALE[0])

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def install_fast_timers(scale: float = 0.001) -> Undo:
    """Scale Retry backoff sleeps, Wait states and the ``.sync`` poll interval by ``scale``.

    moto really sleeps (IntervalSeconds 1 + BackoffRate 2 costs 3 s, a Wait of 60 s costs a
    minute, and every ``.sync`` poll sleeps 0.5 s), which makes retry tests unbearably slow.
    TimeoutSeconds/HeartbeatSeconds are not scaled. Reinstalling changes the scale.
    """

    _TIMER_SCALE[0] = scale

    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            # program_state_event is set when the execution stops, which ends the wait early.
            env.program_state_event.wait(wait_seconds * _TIMER_SCALE[0])

    def apply(p: Patcher) -> None:
        p.setattr(retrier_decl, "time", _ScaledTime())
        p.setattr(WaitFunction, "_wait_interval", wait_interval)
        # Floor the poll: a 0.5 ms busy loop would starve the threads doing the work.
        p.setattr(callback_mod, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", max(0.5 * scale, 0.002))

    return install_patch("install_fast_timers", apply)


# --- JSONPath ----------------------------------------------------------------------------

_INDEFINITE_PATH = re.compile(r"\*|\.\.|\[\s*\?|\[[^\]]*[:,][^\]]*\]")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def is_definite_path(path: str) -> bool:
    """Whether a JSONPath can match at most one node (no wildcard, slice, filter, union, ``..``)."""
    return _INDEFINITE_PATH.search(_QUOTED.sub("", path)) is None


def install_jsonpath_fix() -> Undo:
    """Make ``$.a[0].b`` return the element, not a one-element list.

    moto's ``extract_json`` wraps the result in a list whenever the match's parent was
    reached through an index, so a Choice on ``$.Containers[0].ExitCode`` never matches.
    AWS returns a single value for every definite path.
    """

    orig = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        if is_definite_path(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return orig(path, data)

    def apply(p: Patcher) -> None:
        rebind_everywhere(p, orig, extract_json, "extract_json")

    return install_patch("install_jsonpath_fix", apply)


# --- definition rewrites, ItemBatcher and tolerance ---------------------------------------


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


def batch_items(items: list[Any], batcher: dict[str, Any]) -> list[dict[str, Any]]:
    """Group ``items`` the way Distributed Map's ItemBatcher does.

    Honours MaxItemsPerBatch and MaxInputBytesPerBatch (whichever fills first) and a literal
    BatchInput. Each batch is ``{"Items": [...], "BatchInput": ...}``.
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
    batches its items. Limits: only a literal BatchInput; batching happens before the
    ItemSelector (AWS selects first); EXPRESS children run with STANDARD semantics.
    """

    orig_parse = AmazonStateLanguageParser.parse
    orig_map_run = DistributedIterationComponent._map_run

    def parse(definition: str) -> Any:
        return orig_parse(rewrite_definition(definition))

    def map_run(self: DistributedIterationComponent, env: Any, eval_input: Any) -> None:
        batcher = _batcher_of(self)
        if batcher is not None:
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


# --- JSONata -----------------------------------------------------------------------------


def eval_jsonata(expression: str) -> Any:
    """Evaluate a JSONata expression with jsonata-python, returning plain JSON values."""

    try:
        result = jsonata.Jsonata(expression).evaluate(None)
    except Exception as exc:  # the evaluator's own errors carry no common base class
        raise JSONataException("UNKNOWN", str(exc)) from exc
    # jsonata-python returns list subclasses (JList); round-trip to plain JSON types.
    return None if result is None else json.loads(json.dumps(result))


def install_jsonata() -> Undo:
    """Plug jsonata-python in as moto's JSONata evaluator.

    moto stubs the JVM bridge LocalStack uses, so every JSONata state (and JSONPath
    ``Assign``) fails with ``States.Runtime TypeError('NoneType' object is not callable)``.
    """

    def apply(p: Patcher) -> None:
        p.setattr(jsonata_mod, "_eval_jsonata", eval_jsonata)

    return install_patch("install_jsonata", apply)


# --- StartExecution, runtime errors, thread list --------------------------------------------


def install_sfn_fixes() -> Undo:
    """Name unnamed executions, and JSON-encode string outputs in DescribeExecution.

    * moto's executing backend formats the ARN of a StartExecution without ``name`` with
      ``None`` (``...:execution:sm:None``), so a second unnamed start collides with it.
    * DescribeExecution passes a ``str`` output through unencoded (``hit`` instead of
      ``"hit"``): that suits the non-executing backend, which stores JSON text, but the
      interpreter stores Python values, so a workflow returning a string breaks clients.
    """
    orig_start = StepFunctionsParserBackend.start_execution
    orig_describe = StepFunctionResponse.describe_execution

    def start_execution(
        self: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return orig_start(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    def describe_execution(self: StepFunctionResponse) -> ActionResult:
        result = orig_describe(self)
        response = result.result
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if isinstance(response, dict) and isinstance(execution, Execution) and "output" in response:
            response["output"] = to_json_str(execution.output, separators=(",", ":"))
        return result

    def apply(p: Patcher) -> None:
        p.setattr(StepFunctionsParserBackend, "start_execution", start_execution)
        p.setattr(StepFunctionResponse, "describe_execution", describe_execution)

    return install_patch("install_sfn_fixes", apply)


@dataclass(frozen=True)
class RuntimeErrorRecord:
    """One ``States.Runtime`` error seen by the interpreter (an emulator or definition bug)."""

    event_type: str
    cause: str


_RUNTIME_ERRORS: list[RuntimeErrorRecord] = []
_RUNTIME_ERRORS_LOCK = threading.Lock()


def runtime_errors() -> list[RuntimeErrorRecord]:
    """Every States.Runtime error recorded since the last :func:`clear_runtime_errors`."""
    with _RUNTIME_ERRORS_LOCK:
        return list(_RUNTIME_ERRORS)


def clear_runtime_errors() -> None:
    """Forget the recorded States.Runtime errors."""
    with _RUNTIME_ERRORS_LOCK:
        _RUNTIME_ERRORS.clear()


def install_runtime_error_capture() -> Undo:
    """Record every ``States.Runtime`` error the interpreter emits.

    moto lets ``States.ALL`` catch ``States.Runtime``; AWS does not. A Catch-all would hide
    emulator failures (a Python exception inside moto), so tests assert the list is empty.
    Events inside Distributed Map children never reach the execution history, which is why
    this hooks the event manager rather than reading histories.
    """

    orig = EventManager.add_event

    def add_event(
        self: EventManager, context: Any, event_type: Any, event_details: Any = None, **kw: Any
    ) -> Any:
        for detail in (event_details or {}).values():
            if isinstance(detail, dict) and detail.get("error") == "States.Runtime":
                with _RUNTIME_ERRORS_LOCK:
                    _RUNTIME_ERRORS.append(RuntimeErrorRecord(str(event_type), str(detail.get("cause", ""))))
        return orig(self, context, event_type, event_details, **kw)

    def apply(p: Patcher) -> None:
        p.setattr(EventManager, "add_event", add_event)

    return install_patch("install_runtime_error_capture", apply)


def prune_tmp_threads() -> int:
    """Drop finished threads from moto's never-cleared ``parser.utils.TMP_THREADS``.

    Returns:
        How many threads are still alive.
    """

    alive: list[threading.Thread] = [t for t in utils.TMP_THREADS if t.is_alive()]
    utils.TMP_THREADS[:] = alive  # in place: modules hold their own reference to the list
    return len(alive)
