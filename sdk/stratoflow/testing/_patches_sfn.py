"""Patches for moto's Step Functions interpreter (moto.stepfunctions.parser), pinned to moto 5.2.5."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from jsonpath_ng.ext.parser import parse
from moto.core.responses import ActionResult
from moto.stepfunctions.parser import utils
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback as callback_mod,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.jsonata import jsonata as jsonata_mod
from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from stratoflow.testing._patching import Patcher, Undo, install_patch


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


# --- JSONata -----------------------------------------------------------------------------


def eval_jsonata(expression: str) -> Any:
    """Evaluate a JSONata expression with jsonata-python, returning plain JSON values."""
    # Imported at the first JSONata state: stratoflow compiles none, so a run usually needs none.
    import jsonata  # noqa: PLC0415

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


def install_early_stop_fix() -> Undo:
    """Let an execution be stopped before its worker thread has built its environment.

    moto's ``ExecutionWorker.stop`` calls ``self.env.set_stop`` while ``env`` is still ``None``
    for the first milliseconds of an execution (its thread is parsing the definition), so a
    StopExecution in that window raises ``AttributeError: 'NoneType' object has no attribute
    'set_stop'``. A ``startExecution.sync:2`` state that is cancelled (its Map branch failed,
    its parent stopped) stops the child it has just started, which is what a recursive
    ``@dynamic`` does many times at once. The fix keeps the stop and applies it as soon as the
    environment exists, so the execution ends ABORTED as on AWS.
    """
    orig_stop = ExecutionWorker.stop
    orig_env = ExecutionWorker._get_evaluation_environment
    lock = threading.Lock()

    def stop(self: ExecutionWorker, stop_date: Any, error: str | None, cause: str | None) -> None:
        with lock:
            if self.env is None:
                self._stratoflow_pending_stop = (stop_date, error, cause)  # type: ignore[attr-defined]
                return
        orig_stop(self, stop_date, error, cause)

    def get_environment(self: ExecutionWorker) -> Any:
        env = orig_env(self)
        with lock:
            self.env = env
            pending = getattr(self, "_stratoflow_pending_stop", None)
        if pending is not None:
            stop_date, error, cause = pending
            env.set_stop(stop_date=stop_date, cause=cause, error=error)
        return env

    def apply(p: Patcher) -> None:
        p.setattr(ExecutionWorker, "stop", stop)
        p.setattr(ExecutionWorker, "_get_evaluation_environment", get_environment)

    return install_patch("install_early_stop_fix", apply)


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


_ENDED: weakref.WeakValueDictionary[str, threading.Event] = weakref.WeakValueDictionary()
"""Execution ARN -> set once its worker thread has finished (held by the worker itself)."""


def execution_ended(execution_arn: str) -> threading.Event | None:
    """The event set when the worker thread of ``execution_arn`` has finished, its status final;
    ``None`` if this process started no such execution since ``install_execution_end_events``."""
    return _ENDED.get(execution_arn)


def install_execution_end_events() -> Undo:
    """Let a caller wait for an execution's end instead of polling DescribeExecution.

    moto runs an execution on a thread of its own and offers nothing to wait on; a client
    polls its status (``Execution.wait``, every 50 ms), so a ``run --sandbox`` saw its
    execution end 25 ms late on average, and each poll took the interpreter's lock from the
    execution's threads. The worker now carries an event, set when its thread has run
    ``_execution_logic`` (which makes the status final) to its end, failed or not.
    """
    orig_start: Any = ExecutionWorker.start  # moto leaves both untyped
    orig_logic: Any = ExecutionWorker._execution_logic

    def start(self: ExecutionWorker) -> None:
        ended = threading.Event()
        self._stratoflow_ended = ended  # type: ignore[attr-defined]
        _ENDED[self._evaluation_details.execution_details.arn] = ended
        orig_start(self)

    def execution_logic(self: ExecutionWorker) -> None:
        try:
            orig_logic(self)
        finally:
            ended = getattr(self, "_stratoflow_ended", None)
            if ended is not None:
                ended.set()

    def apply(p: Patcher) -> None:
        p.setattr(ExecutionWorker, "start", start)
        p.setattr(ExecutionWorker, "_execution_logic", execution_logic)

    return install_patch("install_execution_end_events", apply)
