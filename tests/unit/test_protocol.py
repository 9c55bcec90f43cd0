"""The wire contract: everything the compiler emits is a name the runner, the stack and the sandbox know.

Every compile case, every example workflow and the dynamic interpreter are compiled; their
ASL is scanned for what crosses a boundary (runner payloads and their modes, result
selectors, ``${...}`` placeholders, error names, S3 keys, container environment), and each
is checked against ``stratoflow.ir.protocol`` alone. The runner, ``infra/`` and the sandbox
take those names from the same module, so a name it knows is one they know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import S3Trigger, ir
from stratoflow.backends import asl
from stratoflow.backends.asl._gates import LAMBDA_INVOKE_WAIT
from stratoflow.client import key_matches
from stratoflow.define import Interface, load_workflow
from stratoflow.define._triggers import check_triggers
from stratoflow.errors import Problem, TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.runtime import aws
from stratoflow.testing import _sandbox
from tests.compile.asl_cases import CASE_NAMES, load_case

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((REPO / "cdk.json").read_text())["context"]["stratoflow:workflows"]
KNOWN_ERRORS = {  # what the compiler may match or raise
    protocol.STATES_ALL,
    protocol.STATES_TASK_FAILED,
    protocol.TASK_FAILED,
    protocol.STATES_HEARTBEAT_TIMEOUT,
    protocol.ACTOR_LOST,
    protocol.STATES_TIMEOUT,
    protocol.GATE_TIMEOUT,
    *protocol.LAMBDA_TRANSIENT_ERRORS,
}


def _compiled() -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(label, definition, spec key) of every definition the compiler produces in the tests."""
    for name in CASE_NAMES:
        compiled = asl.compile_workflow(load_case(name))
        yield name, compiled.definition, compiled.spec_key
    for target in EXAMPLES:
        path, _, workflow = target.partition(":")
        compiled = asl.compile_workflow(lower(load_workflow(str(REPO / path), workflow)))
        yield target, compiled.definition, compiled.spec_key
    yield "interpreter", asl.interpreter_definition(), None


DEFINITIONS = list(_compiled())


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _dicts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _dicts(child)


def _payloads(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in _dicts(definition):
        if state.get("Resource") in ("arn:aws:states:::lambda:invoke", LAMBDA_INVOKE_WAIT):
            yield state["Parameters"]["Payload"]


def _event(payload: dict[str, Any]) -> dict[str, Any]:
    """The event the runner receives: every ``.$`` path filled as the state would fill it."""
    event: dict[str, Any] = {}
    for key, value in payload.items():
        if key.endswith(".$"):
            # What those paths evaluate to: not strings (a caught error is an object).
            filled = {"items.$": [0, 1], "attempt.$": 2, "error.$": {"Error": "E", "Cause": "C"}}
            event[key.removesuffix(".$")] = filled.get(key, f"from {value}")
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(("label", "definition", "spec_key"), DEFINITIONS, ids=[d[0] for d in DEFINITIONS])
def test_every_runner_payload_parses_as_an_event_of_a_known_mode(
    label: str, definition: dict[str, Any], spec_key: str | None
) -> None:
    payloads = list(_payloads(definition))
    for payload in payloads:
        unknown = {key.removesuffix(".$") for key in payload} - set(protocol.NodeEvent.model_fields)
        assert not unknown, (label, payload)
        event = protocol.NodeEvent.model_validate(_event(payload))
        assert event.mode in protocol.RESULTS
        if spec_key is not None:
            assert event.spec == spec_key
            assert event.spec.startswith(protocol.SPECS_PREFIX)


def test_every_mode_is_emitted_and_handled_by_the_runner() -> None:
    emitted = {
        protocol.NodeEvent.model_validate(_event(p)).mode for _, d, _ in DEFINITIONS for p in _payloads(d)
    }
    assert emitted == set(protocol.Mode)
    assert set(protocol.RESULTS) == set(protocol.Mode)
    assert set(aws._HANDLERS) == set(protocol.Mode)


@pytest.mark.parametrize(("label", "definition", "spec_key"), DEFINITIONS, ids=[d[0] for d in DEFINITIONS])
def test_result_selectors_read_fields_of_the_mode_result(
    label: str, definition: dict[str, Any], spec_key: str | None
) -> None:
    for state in _dicts(definition):
        selector = state.get("ResultSelector")
        if selector is None or "Payload" not in state.get("Parameters", {}):
            continue
        mode = protocol.NodeEvent.model_validate(_event(state["Parameters"]["Payload"])).mode
        for key, path in selector.items():
            if not key.endswith(".$"):  # a literal (the actor ensure step's lost count) reads nothing
                continue
            field = path.removeprefix("$.Payload.")
            assert field in protocol.RESULTS[mode].model_fields, (label, mode, path)


@pytest.mark.parametrize(("label", "definition", "spec_key"), DEFINITIONS, ids=[d[0] for d in DEFINITIONS])
def test_placeholders_errors_keys_and_environment_are_the_protocol_s(
    label: str, definition: dict[str, Any], spec_key: str | None
) -> None:
    text = json.dumps(definition)
    for name in protocol.placeholders_in(text):
        assert protocol.is_placeholder(name), (label, name)
        # The sandbox fills each one (task definitions per shape, image functions per image, actor
        # queues per environment, the rest from its table).
        per_shape = (
            protocol.is_task_definition,
            protocol.is_batch_queue,
            protocol.is_batch_job_definition,
            protocol.is_image_function,
            protocol.is_actor_queue,
        )
        assert any(f(name) for f in per_shape) or name in _sandbox.FILLERS, (label, name)
    for state in _dicts(definition):
        for error in state.get("ErrorEquals", []):
            assert error in KNOWN_ERRORS, (label, error)
        if state.get("Type") == "Fail" and "Error" in state:
            assert state["Error"] in KNOWN_ERRORS, (label, state)
        reader = state.get("ItemReader")
        if reader is not None:
            # The run is the execution's name (under the workflow its spec names), or (the
            # interpreter's map runner) both read from its input.
            template = re.fullmatch(
                r"States\.Format\('(.*)', (\$\$\.Execution\.Name|\$\.workflow, \$\.run, \$\.node)\)",
                reader["Parameters"]["Key.$"],
            )
            assert template is not None
            if template.group(2).startswith("$$"):
                workflow = protocol.spec_workflow(protocol.spec_key_in_comment(definition["Comment"]) or "")
                assert workflow is not None, label
                assert template.group(1).startswith(protocol.run_prefix(workflow, "{}")), (label, template)
            else:
                assert template.group(1).startswith(protocol.run_prefix("{}", "{}")), (label, template)
        overrides = state.get("ContainerOverrides", [])
        # ECS names the container (a list of overrides); a Batch job has one (a single object).
        for override in overrides if isinstance(overrides, list) else [overrides]:
            if isinstance(overrides, list):
                assert override["Name"] == protocol.CONTAINER_NAME
            entries = {entry["Name"]: entry for entry in override["Environment"]}
            event = {protocol.ENV_RUN, protocol.ENV_SPEC, protocol.ENV_NODE}
            if protocol.ENV_ITEMS in entries:  # a container map's batch: the map_items event
                assert entries[protocol.ENV_MODE]["Value"] == protocol.Mode.MAP_ITEMS.value
                event |= {protocol.ENV_MODE, protocol.ENV_ITEMS}
            elif protocol.ENV_MODE in entries:  # a container node of a dynamic graph
                assert entries[protocol.ENV_MODE]["Value"] == protocol.Mode.DAG_RUN.value
                event |= {protocol.ENV_MODE}
            else:  # a node's own run: the container reports which attempt it is
                event |= {protocol.ENV_ATTEMPT}
                assert entries[protocol.ENV_ATTEMPT]["Value.$"].startswith("States.JsonToString("), label
            assert set(entries) == event, label


def _actor_messages(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in _dicts(definition):
        if state.get("Resource") == asl.SQS_SEND_WAIT:
            yield state["Parameters"]["MessageBody"]


def test_every_actor_message_is_a_token_and_an_event_a_worker_runs() -> None:
    bodies = [body for _, d, _ in DEFINITIONS for body in _actor_messages(d)]
    assert bodies, "no compile case sends an actor task"
    modes = set()
    for body in bodies:
        assert body["token.$"] == protocol.TASK_TOKEN
        message = protocol.ActorMessage.model_validate({"token": "t", "event": _event(body["event"])})
        event = protocol.NodeEvent.model_validate(message.event)
        assert event.mode in aws._HANDLERS
        modes.add(event.mode)
    assert modes == {protocol.Mode.RUN, protocol.Mode.MAP_ITEMS}


def test_the_sandbox_fills_every_fixed_placeholder() -> None:
    assert set(_sandbox.FILLERS) == set(protocol.Placeholder)


def test_image_tasks_name_their_image_in_every_placeholder_that_runs_their_code() -> None:
    (definition,) = [d for label, d, _ in DEFINITIONS if label == "images"]
    names = protocol.placeholders_in(json.dumps(definition))
    functions = {protocol.image_function_tag(n) for n in names if protocol.is_image_function(n)}
    shapes = [protocol.task_definition_shape(n) for n in names if protocol.is_task_definition(n)]
    jobs = [
        n.removeprefix(protocol.BATCH_JOB_DEFINITION_PREFIX)
        for n in names
        if protocol.is_batch_job_definition(n)
    ]
    trainer, gpu = load_case("images").tasks["split"].image, load_case("images").tasks["tune"].image
    assert trainer is not None and gpu is not None
    assert functions == {trainer.tag}  # split and the score map; report (no image) is the runner's
    assert [protocol.split_image_shape(s) for s in shapes] == [("cpu4_mem16384", trainer.tag)]
    assert [protocol.split_image_shape(j) for j in jobs] == [("vcpu1_mem2048_gpu1", gpu.tag)]
    assert protocol.Placeholder.TASK_RUNNER_FUNCTION_ARN in names
    assert protocol.split_image_shape("cpu4_mem16384") == ("cpu4_mem16384", None)


def test_the_container_reads_the_event_the_compiler_passes() -> None:
    fargate = next(d for label, d, _ in DEFINITIONS if label == "fargate")
    overrides = next(s for s in _dicts(fargate) if "ContainerOverrides" in s)["ContainerOverrides"][0]
    environ = {e["Name"]: e.get("Value", "execution-name") for e in overrides["Environment"]}
    environ[protocol.ENV_ATTEMPT] = "3"  # what States.JsonToString(States.MathAdd(...)) gives
    event = protocol.container_event(environ)
    assert event.mode is protocol.Mode.RUN and event.run == "execution-name"
    assert event.attempt == 3


def test_a_container_batch_reads_the_map_items_event_the_compiler_passes() -> None:
    definition = next(d for label, d, _ in DEFINITIONS if label == "map_fargate")
    overrides = next(s for s in _dicts(definition) if "ContainerOverrides" in s)["ContainerOverrides"][0]
    # What the batch state fills in: the run from BatchInput, the indices as a JSON string.
    filled = {"$.BatchInput.run": "the-run", "States.JsonToString($.Items)": "[20,21,22]"}
    environ = {e["Name"]: e.get("Value") or filled[e["Value.$"]] for e in overrides["Environment"]}
    event = protocol.container_event(environ)
    assert (event.mode, event.run, event.items) == (protocol.Mode.MAP_ITEMS, "the-run", [20, 21, 22])
    assert event.node == "map_train"


def test_the_largest_container_batch_fits_the_ecs_overrides_limit() -> None:
    definition = next(d for label, d, _ in DEFINITIONS if label == "map_fargate")
    overrides = next(s for s in _dicts(definition) if "ContainerOverrides" in s)["ContainerOverrides"][0]
    worst = json.dumps(
        list(range(9_999_999 - protocol.MAX_CONTAINER_BATCH, 9_999_999)), separators=(",", ":")
    )
    environment = [
        {
            "name": e["Name"],
            "value": e.get("Value") or (worst if e["Name"] == protocol.ENV_ITEMS else "r" * 80),
        }
        for e in overrides["Environment"]
    ]
    body = json.dumps({"containerOverrides": [{"name": overrides["Name"], "environment": environment}]})
    assert len(body.encode()) < 8192


def test_an_interpreter_container_runs_a_node_or_a_map_batch() -> None:
    interpreter = next(d for label, d, _ in DEFINITIONS if label == "interpreter")
    modes = []
    for state in _dicts(interpreter):
        if "ContainerOverrides" not in state:
            continue
        overrides = state["ContainerOverrides"]
        environment = (overrides[0] if isinstance(overrides, list) else overrides)["Environment"]
        # A path's value as the state fills it: the batch's indices are a JSON list (a string).
        environ = {
            e["Name"]: e.get("Value", "[0]" if e["Name"] == protocol.ENV_ITEMS else "x") for e in environment
        }
        event = protocol.container_event(environ)
        modes.append(event.mode)
        assert (event.items is not None) is (event.mode is protocol.Mode.MAP_ITEMS)
    # A node's container (Fargate or Batch, images or not) runs dag_run; a container map's batch, map_items.
    assert set(modes) == {protocol.Mode.DAG_RUN, protocol.Mode.MAP_ITEMS}
    # Fargate and Batch: on-demand; Spot, then on-demand; each timed or not.
    assert modes.count(protocol.Mode.MAP_ITEMS) == 2 * 6


def test_map_items_key_is_what_the_item_reader_formats() -> None:
    template = next(
        s["ItemReader"]["Parameters"]["Key.$"]
        for _, d, _ in DEFINITIONS
        for s in _dicts(d)
        if "ItemReader" in s
    )
    key = re.fullmatch(r"States\.Format\('(.*)', \$\$\.Execution\.Name\)", template)
    assert key is not None
    workflow, node = key.group(1).split("/")[1], key.group(1).split("/")[4]
    assert key.group(1).replace("{}", "RUN", 1) == protocol.map_items_key(workflow, "RUN", node)


def test_reserved_prefixes_cover_every_prefix_stratoflow_writes() -> None:
    layout = {
        protocol.SPECS_PREFIX,
        protocol.DYNAMIC_SPECS_PREFIX,
        protocol.RUNS_PREFIX,
        protocol.BLOBS_PREFIX,
    }
    assert set(protocol.RESERVED_PREFIXES) == layout
    assert protocol.spec_key("w", b"{}").startswith(protocol.SPECS_PREFIX)
    assert protocol.dynamic_spec_key("w", "d", b"{}").startswith(protocol.DYNAMIC_SPECS_PREFIX)
    assert protocol.node_outputs_key("w", "r", "n").startswith(protocol.RUNS_PREFIX)
    assert protocol.blob_key("ab" * 32).startswith(protocol.BLOBS_PREFIX)


def test_a_suffix_trigger_never_starts_runs_for_the_sub_specs_the_runner_writes() -> None:
    # The bug: dynamic-specs/ was not reserved, so S3Trigger(suffix=".json") started a run
    # for every @dynamic sub-workflow IR the runner stores.
    sub_spec = protocol.dynamic_spec_key("wf", "wf_dyn", b"{}")
    trigger = S3Trigger(suffix=".json", input="data")
    assert not key_matches(sub_spec, trigger.prefix, trigger.suffix)
    assert key_matches("incoming/x.json", trigger.prefix, trigger.suffix)


def test_a_trigger_on_the_sub_spec_prefix_is_a_definition_error() -> None:
    interface = Interface(
        inputs=(ir.Variable(name="data", type=ir.TypeRef(kind="file")),), outputs=(), output_style="none"
    )
    where = ir.SourceLocation(path="wf.py", line=1, col=0)
    problems: list[Problem] = []
    check_triggers(
        [S3Trigger(prefix=protocol.DYNAMIC_SPECS_PREFIX, input="data")], interface, "wf", where, problems
    )
    assert len(problems) == 1
    assert "where stratoflow writes its own objects" in problems[0].message


def test_an_error_name_that_is_no_identifier_falls_back_to_the_documented_one() -> None:
    error = aws.step_functions_error(TaskFailedError("boom", node="a", error_type="not an identifier"))
    assert type(error).__name__ == protocol.TASK_FAILED == "Sdk.TaskFailed"
    cause = protocol.FailureCause.parse(json.loads(str(error)))
    assert cause is not None and cause.node == "a" and cause.error == "not an identifier"
    named = aws.step_functions_error(TaskFailedError("boom", node="a", error_type="ValueError"))
    assert type(named).__name__ == "ValueError"


def test_event_parameters_reject_fields_the_runner_does_not_read() -> None:
    with pytest.raises(ValueError, match="not a NodeEvent field: nodes"):
        protocol.event_parameters(run="r", spec="s", node="n", nodes="x")
    with pytest.raises(ValueError, match="no field count"):
        protocol.result_selector(protocol.Mode.CACHE_CHECK, "count")


def test_attempt_paths_count_from_the_state_s_retry_count() -> None:
    assert protocol.ATTEMPT.expr == "States.MathAdd($$.State.RetryCount, 1)"
    assert protocol.attempt_path(4).expr == "States.MathAdd($$.State.RetryCount, 4)"
    entries = protocol.container_environment(run="r", spec="s", node="n", attempt=protocol.attempt_path(2))
    assert entries[-1] == {
        "Name": protocol.ENV_ATTEMPT,
        "Value.$": "States.JsonToString(States.MathAdd($$.State.RetryCount, 2))",
    }
    assert (
        protocol.container_event(
            {protocol.ENV_RUN: "r", protocol.ENV_SPEC: "s", protocol.ENV_NODE: "n"}
        ).attempt
        == 1
    )


def test_a_failure_cause_keeps_the_tail_of_a_long_traceback() -> None:
    trace = "x" * protocol.TRACEBACK_MAX + "ValueError: the end\n"
    error = TaskFailedError("boom", node="n", attempt=2, error_type="ValueError", traceback_text=trace)
    cause = protocol.FailureCause.of(error)
    assert (cause.node, cause.error, cause.message, cause.attempt) == ("n", "ValueError", "boom", 2)
    assert cause.traceback is not None and len(cause.traceback) == protocol.TRACEBACK_MAX
    assert cause.traceback.endswith("ValueError: the end\n")
    assert protocol.container_error_key("w", "r", "n") == "runs/w/r/errors/n.json"
