"""One canary per moto patch: moto 5.2.5 as shipped is still broken, and the patch fixes it.

Each ``test_raw_*`` asserts the *bad* behaviour of unpatched moto. When one of them fails,
moto changed: check whether the patch it guards is still needed (and still correct).
Patches are process-global, so the "raw" fixtures uninstall them; the next patched
harness installs them again.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stratoflow.testing import (
    EmulatedAws,
    SpotInterruption,
    install_ecs,
    install_ecs_inprocess,
    install_ecs_sync_failure,
    install_integration_normalisation,
    install_retry_sync_fix,
)

pytestmark = pytest.mark.emulated


def machine(start: str, **states: Any) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


def distributed_map(processor: dict[str, Any], **extra: Any) -> dict[str, Any]:
    config = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {"Type": "Map", "ItemProcessor": {"ProcessorConfig": config, **processor}, "End": True, **extra}


# --- install_lambda_inprocess ---------------------------------------------------------------


def _invoke(aws: EmulatedAws) -> Any:
    calls: list[dict[str, Any]] = []
    aws.register_lambda("echo", lambda event, ctx: calls.append(event) or {"handled": event["x"]})
    response = aws.client("lambda").invoke(FunctionName="echo", Payload=json.dumps({"x": 1}))
    return json.loads(response["Payload"].read()), calls


def test_raw_lambda_without_docker_echoes_the_request(raw_aws: EmulatedAws) -> None:
    payload, calls = _invoke(raw_aws)
    assert payload == {"x": 1}
    assert calls == []


def test_lambda_inprocess_runs_the_handler(aws: EmulatedAws) -> None:
    payload, calls = _invoke(aws)
    assert payload == {"handled": 1}
    assert calls == [{"x": 1}]


# --- install_fast_timers ----------------------------------------------------------------------


def test_raw_retry_and_sync_waits_use_real_time(raw_aws: EmulatedAws) -> None:
    import time

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )

    assert retrier_decl.time is time
    assert state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK == 0.5


def test_fast_timers_finish_an_hour_long_wait(aws: EmulatedAws) -> None:
    arn = aws.create_state_machine("wait", machine("W", W={"Type": "Wait", "Seconds": 3600, "End": True}))
    assert aws.start_and_wait(arn, {}, timeout=60).status == "SUCCEEDED"


# --- install_jsonpath_fix ---------------------------------------------------------------------

_INDEXED = machine(
    "P", P={"Type": "Pass", "Parameters": {"v.$": "$.a[0].b", "all.$": "$.a[*].b"}, "End": True}
)


def test_raw_index_mid_path_returns_a_list(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(raw_aws.create_state_machine("idx", _INDEXED), {"a": [{"b": 1}]})
    assert result.output == {"v": [1], "all": [1]}


def test_jsonpath_fix_returns_the_element(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(aws.create_state_machine("idx", _INDEXED), {"a": [{"b": 1}]})
    assert result.output == {"v": 1, "all": [1]}


# --- install_definition_rewrites ----------------------------------------------------------------

_PASS_CHILD = machine("C", C={"Type": "Pass", "End": True})
_REJECTED = {
    "ItemBatcher": distributed_map(_PASS_CHILD, ItemBatcher={"MaxItemsPerBatch": 2}),
    "integer percentage": distributed_map(_PASS_CHILD, ToleratedFailurePercentage=50),
    "EXPRESS": {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            **_PASS_CHILD,
        },
        "End": True,
    },
}


@pytest.mark.parametrize("feature", sorted(_REJECTED))
def test_raw_grammar_rejects(raw_aws: EmulatedAws, feature: str) -> None:
    with pytest.raises(ClientError, match="ASLParserException"):
        raw_aws.create_state_machine("m", machine("M", M=_REJECTED[feature]))


@pytest.mark.parametrize("feature", sorted(_REJECTED))
def test_definition_rewrites_accept(aws: EmulatedAws, feature: str) -> None:
    arn = aws.create_state_machine("m", machine("M", M=_REJECTED[feature]))
    assert aws.start_and_wait(arn, [1, 2, 3]).status == "SUCCEEDED"


# --- install_map_tolerance --------------------------------------------------------------------

_FAILING_CHILDREN = machine(
    "M",
    M=distributed_map(
        machine(
            "Check",
            Check={
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Ok"}],
                "Default": "Bad",
            },
            Ok={"Type": "Pass", "End": True},
            Bad={"Type": "Fail", "Error": "Bad"},
        ),
        ToleratedFailureCount=1,
    ),
)
_ITEMS = [{"ok": True}, {"ok": False}, {"ok": False}]


def test_raw_distributed_map_ignores_failed_items(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(raw_aws.create_state_machine("m", _FAILING_CHILDREN), _ITEMS)
    assert result.status == "SUCCEEDED"
    assert result.output == [{"ok": True}, None, None]


def test_map_tolerance_fails_the_map_run(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(aws.create_state_machine("m", _FAILING_CHILDREN), _ITEMS)
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


# --- install_integration_normalisation --------------------------------------------------------


def _sync2_parent(aws: EmulatedAws) -> str:
    child = aws.create_state_machine("child", machine("P", P={"Type": "Pass", "End": True}))
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child, "Input": {"x": 1}},
        "End": True,
    }
    return aws.create_state_machine("parent", machine("S", S=task))


def test_raw_start_execution_sync_is_a_runtime_error(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(_sync2_parent(raw_aws), {})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "StateMachineArn" in (result.cause or "")


def test_integration_normalisation_runs_the_child(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(_sync2_parent(aws), {})
    assert result.status == "SUCCEEDED"
    assert result.output["Output"] == {"x": 1}
    assert aws.runtime_errors() == []


# --- install_retry_sync_fix ---------------------------------------------------------------------


def _retried_sync(aws: EmulatedAws) -> str:
    # The child must outlive the first poll, so the retried attempt meets the stale endpoint.
    slow_fail = machine(
        "W", W={"Type": "Wait", "Seconds": 100, "Next": "F"}, F={"Type": "Fail", "Error": "Child"}
    )
    child = aws.create_state_machine("child", slow_fail)
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": child},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
        "End": True,
    }
    return aws.create_state_machine("parent", machine("S", S=task))


def test_raw_retry_of_sync_task_times_out(aws: EmulatedAws) -> None:
    install_retry_sync_fix()()  # just this patch out: the sync task needs the others
    result = aws.start_and_wait(_retried_sync(aws), {})
    assert result.error == "States.Timeout"


def test_retry_sync_fix_reruns_the_task(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(_retried_sync(aws), {})
    assert result.error == "States.TaskFailed"
    assert len(result.events_of_type("TaskSubmitted")) == 2


# --- install_sfn_fixes --------------------------------------------------------------------------


def test_raw_unnamed_execution_arn_ends_in_none(raw_aws: EmulatedAws) -> None:
    arn = raw_aws.create_state_machine("m", machine("P", P={"Type": "Pass", "End": True}))
    assert raw_aws.start_execution(arn, {}).endswith(":None")


def test_sfn_fixes_name_unnamed_executions(aws: EmulatedAws) -> None:
    arn = aws.create_state_machine("m", machine("P", P={"Type": "Pass", "End": True}))
    first, second = aws.start_execution(arn, {}), aws.start_execution(arn, {})
    assert first != second
    assert not first.endswith(":None")


# --- install_client_cache -----------------------------------------------------------------------


def _two_clients() -> tuple[Any, Any]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    make = lambda_eval_utils.boto_client_for
    return make(region="us-east-1", service="lambda"), make(region="us-east-1", service="lambda")


def test_raw_interpreter_builds_a_client_per_call(raw_aws: EmulatedAws) -> None:
    first, second = _two_clients()
    assert first is not second


def test_client_cache_reuses_clients(aws: EmulatedAws) -> None:
    first, second = _two_clients()
    assert first is second


# --- install_jsonata ------------------------------------------------------------------------------

_JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "P",
    "States": {
        "P": {"Type": "Pass", "Output": "{% {'sum': $states.input.a + $states.input.b} %}", "End": True}
    },
}


def test_raw_jsonata_has_no_evaluator(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(raw_aws.create_state_machine("j", _JSONATA), {"a": 1, "b": 2})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "NoneType" in (result.cause or "")


def test_jsonata_evaluates(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(aws.create_state_machine("j", _JSONATA), {"a": 1, "b": 2})
    assert result.output == {"sum": 3}


# --- install_runtime_error_capture ------------------------------------------------------------

_CAUGHT_RUNTIME = machine(
    "T",
    T={
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "nowhere", "Payload.$": "$.missing.path"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "End": True,
    },
    Caught={"Type": "Pass", "End": True},
)


def test_raw_states_all_catches_states_runtime(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(raw_aws.create_state_machine("c", _CAUGHT_RUNTIME), {})
    assert result.status == "SUCCEEDED"  # AWS would fail the execution: States.ALL excludes it


def test_runtime_errors_are_recorded(aws: EmulatedAws) -> None:
    aws.start_and_wait(aws.create_state_machine("c", _CAUGHT_RUNTIME), {})
    assert [e.cause for e in aws.runtime_errors() if "missing.path" in e.cause]


# --- parser.utils.TMP_THREADS -----------------------------------------------------------------


def test_raw_tmp_threads_keeps_finished_threads(raw_aws: EmulatedAws) -> None:
    from moto.stepfunctions.parser import utils

    raw_aws.start_and_wait(
        raw_aws.create_state_machine("m", machine("P", P={"Type": "Pass", "End": True})), {}
    )
    assert any(not t.is_alive() for t in utils.TMP_THREADS)


def test_harness_exit_prunes_tmp_threads() -> None:
    from moto.stepfunctions.parser import utils

    with EmulatedAws() as aws:
        aws.start_and_wait(aws.create_state_machine("m", machine("P", P={"Type": "Pass", "End": True})), {})
    assert all(t.is_alive() for t in utils.TMP_THREADS)


# --- ECS: install_ecs, install_ecs_inprocess, install_ecs_sync_failure -------------------------


def _ecs_machine(aws: EmulatedAws, *, security_groups: bool = False, spot: bool = False) -> str:
    cluster = aws.create_ecs_cluster("c")
    task_definition = aws.create_task_definition("runner")  # task-level memory only
    vpc: dict[str, Any] = {"Subnets": [aws.create_subnet()]}  # a VPC without DNS hostnames
    if security_groups:
        vpc["SecurityGroups"] = ["sg-12345678"]
    parameters: dict[str, Any] = {
        "Cluster": cluster,
        "TaskDefinition": task_definition,
        "NetworkConfiguration": {"AwsvpcConfiguration": vpc},
        "Overrides": {"ContainerOverrides": [{"Name": "main", "Command.$": "$.command"}]},
    }
    if spot:
        parameters["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    else:
        parameters["LaunchType"] = "FARGATE"
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": parameters,
        "End": True,
    }
    return aws.create_state_machine("ecs", machine("R", R=task))


def test_raw_ecs_integration_is_a_runtime_error(raw_aws: EmulatedAws) -> None:
    result = raw_aws.start_and_wait(_ecs_machine(raw_aws), {"command": ["run"]})
    assert result.error == "States.Runtime"
    assert (result.cause or "").endswith("'Cluster'")


@pytest.mark.parametrize(
    ("scenario", "crash"),
    [
        ("task-level memory", "unsupported operand type(s) for +="),
        ("no security groups", "'securityGroups'"),
        ("no DNS hostnames", "private_dns_name"),
        ("FARGATE_SPOT", "No instances found"),
    ],
)
def test_raw_ecs_crashes(
    aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch, scenario: str, crash: str
) -> None:
    install_ecs()()  # just this patch out: runTask.sync needs normalisation first
    if scenario != "task-level memory":
        _get_past_the_memory_crash(monkeypatch)
    spot = scenario == "FARGATE_SPOT"
    arn = _ecs_machine(aws, security_groups=scenario != "no security groups", spot=spot)
    result = aws.start_and_wait(arn, {"command": ["run"]})
    assert result.error == "States.Runtime"
    assert crash in (result.cause or "")


def _get_past_the_memory_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    orig = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def requirements(task_definition: Any) -> Any:
        for container in task_definition.container_definitions:
            container.setdefault("memory", 512)
        return orig(task_definition)

    monkeypatch.setattr(
        EC2ContainerServiceBackend, "_calculate_task_resource_requirements", staticmethod(requirements)
    )


def test_ecs_patches_run_a_spot_task(aws: EmulatedAws) -> None:
    aws.register_ecs_entrypoint("runner", lambda env, command: 0)
    result = aws.start_and_wait(_ecs_machine(aws, spot=True), {"command": ["run"]})
    assert result.status == "SUCCEEDED"
    assert result.output["CapacityProviderName"] == "FARGATE_SPOT"


def test_raw_ecs_runs_nothing(aws: EmulatedAws) -> None:
    install_ecs_inprocess()()
    calls: list[list[str]] = []
    aws.register_ecs_entrypoint("runner", lambda env, command: calls.append(command) or 0)
    result = aws.start_and_wait(_ecs_machine(aws), {"command": ["run"]})
    assert result.status == "SUCCEEDED"
    assert calls == []
    assert "StopCode" not in result.output


def test_ecs_inprocess_runs_the_entrypoint(aws: EmulatedAws) -> None:
    calls: list[list[str]] = []
    aws.register_ecs_entrypoint("runner", lambda env, command: calls.append(command) or 0)
    result = aws.start_and_wait(_ecs_machine(aws), {"command": ["run", "it"]})
    assert calls == [["run", "it"]]
    assert result.output["StopCode"] == "EssentialContainerExited"


def _exits_3(env: dict[str, str], command: list[str]) -> int:
    return 3


def test_raw_ecs_sync_ignores_exit_codes(aws: EmulatedAws) -> None:
    install_ecs_sync_failure()()
    aws.register_ecs_entrypoint("runner", _exits_3)
    result = aws.start_and_wait(_ecs_machine(aws), {"command": ["run"]})
    assert result.status == "SUCCEEDED"
    assert result.output["Containers"][0]["ExitCode"] == 3


def test_ecs_sync_failure_fails_the_task(aws: EmulatedAws) -> None:
    aws.register_ecs_entrypoint("runner", _exits_3)
    result = aws.start_and_wait(_ecs_machine(aws), {"command": ["run"]})
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(result.cause or "{}")["Containers"][0]["ExitCode"] == 3


def test_spot_interruption_gives_stop_code_and_exit_143(aws: EmulatedAws) -> None:
    def reclaimed(env: dict[str, str], command: list[str]) -> int:
        raise SpotInterruption

    aws.register_ecs_entrypoint("runner", reclaimed)
    result = aws.start_and_wait(_ecs_machine(aws, spot=True), {"command": ["run"]})
    cause = json.loads(result.cause or "{}")
    assert (cause["StopCode"], cause["Containers"][0]["ExitCode"]) == ("SpotInterruption", 143)


def test_normalisation_is_what_ecs_needs_first(raw_aws: EmulatedAws) -> None:
    # The ECS canaries above rely on normalisation being the first ECS failure.
    install_integration_normalisation()
    try:
        result = raw_aws.start_and_wait(_ecs_machine(raw_aws, security_groups=True), {"command": ["run"]})
    finally:
        install_integration_normalisation()()
    assert result.error == "States.Runtime"
    assert "unsupported operand" in (result.cause or "")


# --- install_early_stop_fix -----------------------------------------------------------------


def _worker_still_parsing() -> Any:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    worker = ExecutionWorker.__new__(ExecutionWorker)
    worker.env = None  # what __init__ leaves until the execution's thread has parsed the definition
    return worker


def test_raw_stopping_an_execution_before_its_environment_crashes(raw_aws: EmulatedAws) -> None:
    with pytest.raises(AttributeError, match="set_stop"):
        _worker_still_parsing().stop(stop_date=None, error=None, cause=None)


def test_early_stop_fix_keeps_the_stop_and_the_execution_aborts(aws: EmulatedAws) -> None:
    assert _worker_still_parsing().stop(stop_date=None, error=None, cause=None) is None
    wait = {"Type": "Wait", "Seconds": 3000, "End": True}  # 3 s scaled: still waiting when the stop lands
    arn = aws.create_state_machine("stopped-early", machine("W", W=wait))
    sfn = aws.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    sfn.stop_execution(executionArn=execution)  # usually while the definition is still parsing
    deadline = time.monotonic() + 5
    while (
        sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline
    ):
        time.sleep(0.01)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
