"""EmulatedAws end to end: hand-written ASL over in-process Lambda handlers and ECS entrypoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from stratoflow import errors
from stratoflow.testing import EmulatedAws, FakeLambdaContext, SpotInterruption
from stratoflow.testing._moto_patches import prune_tmp_threads
from stratoflow.testing._patches_map import batch_items, rewrite_definition, tolerance_exceeded
from stratoflow.testing._patches_sfn import is_definite_path

pytestmark = pytest.mark.emulated

BUCKET = "stratoflow-payloads"


def lambda_task(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${RunnerFn}", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        **extra,
    }


def machine(start: str, **states: Any) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


# --- a runner-shaped workflow ---------------------------------------------------------------


def runner(event: dict[str, Any], context: FakeLambdaContext) -> Any:
    """Shaped like the project's task runner: plain boto3 clients, payloads in S3."""
    op = event["op"]
    if op == "extract":
        key = f"runs/{context.aws_request_id}/rows.json"
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps([1, 2, 3]))
        return {"rows_key": key, "count": 3}
    rows = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=event["rows_key"])["Body"].read())
    if op == "sum":
        return {"sum": sum(rows)}
    if op == "max":
        return {"max": max(rows)}
    raise ValueError(f"unknown op {op}")


def _runner_call(op: str, **payload: str) -> dict[str, Any]:
    return {"FunctionName": "${RunnerFn}", "Payload": {"op": op, **payload}}


WORKFLOW = machine(
    "Extract",
    Extract=lambda_task(Parameters=_runner_call("extract"), Next="Any"),
    Any={
        "Type": "Choice",
        "Choices": [{"Variable": "$.count", "NumericGreaterThan": 0, "Next": "Both"}],
        "Default": "Empty",
    },
    Both={
        "Type": "Parallel",
        "Branches": [
            machine(
                "Sum",
                Sum=lambda_task(
                    Parameters={
                        "FunctionName": "${RunnerFn}",
                        "Payload": {"op": "sum", "rows_key.$": "$.rows_key"},
                    },
                    End=True,
                ),
            ),
            machine(
                "Max",
                Max=lambda_task(
                    Parameters={
                        "FunctionName": "${RunnerFn}",
                        "Payload": {"op": "max", "rows_key.$": "$.rows_key"},
                    },
                    End=True,
                ),
            ),
        ],
        "Next": "Summary",
    },
    Summary={"Type": "Pass", "Parameters": {"sum.$": "$[0].sum", "max.$": "$[1].max"}, "End": True},
    Empty={"Type": "Pass", "Result": "empty", "End": True},
)


def test_workflow_of_lambda_choice_parallel_pass_succeeds(aws: EmulatedAws) -> None:
    aws.create_bucket(BUCKET)
    function_arn = aws.register_lambda("runner", runner)
    arn = aws.create_state_machine("nightly", WORKFLOW, {"RunnerFn": function_arn})

    result = aws.start_and_wait(arn, {"day": "2024-01-01"}, name="first")

    assert result.status == "SUCCEEDED"
    assert result.output == {"sum": 6, "max": 3}
    assert result.execution_arn.endswith(":first")
    assert len(result.events_of_type("TaskSucceeded")) == 3
    assert 0 < result.max_payload_bytes < 1024
    assert aws.runtime_errors() == []


def test_max_payload_bytes_sees_the_largest_state_io(aws: EmulatedAws) -> None:
    arn = aws.create_state_machine("pass", machine("P", P={"Type": "Pass", "End": True}))
    result = aws.start_and_wait(arn, {"blob": "x" * 10_000})
    assert result.max_payload_bytes >= 10_000


def test_handler_exception_is_the_error_name_and_retry_matches_it(aws: EmulatedAws) -> None:
    attempts: list[int] = []

    def flaky(event: dict[str, Any], context: FakeLambdaContext) -> Any:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ValueError(f"attempt {len(attempts)}")
        return {"ok": True, "function": context.function_name}

    function_arn = aws.register_lambda("flaky", flaky)
    task = lambda_task(
        Retry=[{"ErrorEquals": ["ValueError"], "MaxAttempts": 2, "IntervalSeconds": 5}], End=True
    )
    arn = aws.create_state_machine("retry", machine("T", T=task), {"RunnerFn": function_arn})

    result = aws.start_and_wait(arn, {})

    assert result.output == {"ok": True, "function": "flaky"}
    failures = [e["taskFailedEventDetails"] for e in result.events_of_type("TaskFailed")]
    assert [f["error"] for f in failures] == ["ValueError", "ValueError"]
    assert json.loads(failures[0]["cause"]) == {"errorType": "ValueError", "errorMessage": "attempt 1"}
    assert aws.runtime_errors() == []


def test_retries_exhausted_fail_with_the_exception_name(aws: EmulatedAws) -> None:
    def broken(event: dict[str, Any], context: FakeLambdaContext) -> Any:
        raise KeyError("missing")

    function_arn = aws.register_lambda("broken", broken)
    task = lambda_task(Retry=[{"ErrorEquals": ["KeyError"], "MaxAttempts": 1}], End=True)
    arn = aws.create_state_machine("retry", machine("T", T=task), {"RunnerFn": function_arn})
    result = aws.start_and_wait(arn, {})
    assert (result.status, result.error) == ("FAILED", "KeyError")


# --- Distributed Map --------------------------------------------------------------------------


def _batch_child(event: dict[str, Any], context: FakeLambdaContext) -> Any:
    if any(item.get("fail") for item in event["Items"]):
        raise RuntimeError("bad item in batch")
    return {"n": len(event["Items"]), "batch_input": event.get("BatchInput")}


def _dmap(tolerated_percentage: int) -> dict[str, Any]:
    child = machine("Child", Child=lambda_task(End=True))
    return machine(
        "Fan",
        Fan={
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": BUCKET, "Key.$": "$.items_key"},
            },
            "ItemBatcher": {"MaxItemsPerBatch": 3, "BatchInput": {"run": "r1"}},
            "ToleratedFailurePercentage": tolerated_percentage,
            "MaxConcurrency": 4,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                **child,
            },
            "End": True,
        },
    )


def _dmap_setup(aws: EmulatedAws, failing: set[int]) -> dict[str, str]:
    aws.create_bucket(BUCKET)
    items = [{"i": i, "fail": i in failing} for i in range(10)]
    aws.client("s3").put_object(Bucket=BUCKET, Key="in/items.json", Body=json.dumps(items).encode())
    return {"RunnerFn": aws.register_lambda("child", _batch_child)}


def test_distributed_map_reads_s3_and_batches_items(aws: EmulatedAws) -> None:
    substitutions = _dmap_setup(aws, failing=set())
    arn = aws.create_state_machine("fan", _dmap(0), substitutions)

    result = aws.start_and_wait(arn, {"items_key": "in/items.json"})

    assert result.status == "SUCCEEDED"
    assert result.output == [
        {"n": 3, "batch_input": {"run": "r1"}},
        {"n": 3, "batch_input": {"run": "r1"}},
        {"n": 3, "batch_input": {"run": "r1"}},
        {"n": 1, "batch_input": {"run": "r1"}},
    ]
    assert aws.runtime_errors() == []


def test_distributed_map_within_tolerance_succeeds(aws: EmulatedAws) -> None:
    substitutions = _dmap_setup(aws, failing={0})  # one batch of four fails: 25 %
    arn = aws.create_state_machine("fan", _dmap(50), substitutions)
    assert aws.start_and_wait(arn, {"items_key": "in/items.json"}).status == "SUCCEEDED"


def test_distributed_map_over_tolerance_fails(aws: EmulatedAws) -> None:
    substitutions = _dmap_setup(aws, failing={0, 4, 7})  # three batches of four fail: 75 %
    arn = aws.create_state_machine("fan", _dmap(50), substitutions)
    result = aws.start_and_wait(arn, {"items_key": "in/items.json"})
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


# --- ECS runTask.sync ---------------------------------------------------------------------------


def _ecs_workflow(aws: EmulatedAws) -> str:
    parameters = {
        "Cluster": aws.create_ecs_cluster("jobs"),
        "TaskDefinition": aws.create_task_definition("runner", environment={"STAGE": "test"}),
        "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
        "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [aws.create_subnet()]}},
        "Overrides": {
            "ContainerOverrides": [
                {
                    "Name": "main",
                    "Command.$": "$.command",
                    "Environment": [{"Name": "NODE", "Value.$": "$.node"}],
                }
            ]
        },
    }
    return aws.create_state_machine(
        "containers",
        machine(
            "Run",
            Run={
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Why"}],
                "Next": "Done",
            },
            Why={"Type": "Pass", "Parameters": {"task.$": "States.StringToJson($.error.Cause)"}, "End": True},
            Done={"Type": "Pass", "Parameters": {"exit.$": "$.Containers[0].ExitCode"}, "End": True},
        ),
    )


def test_ecs_run_task_sync_runs_the_entrypoint_in_process(aws: EmulatedAws) -> None:
    seen: list[tuple[dict[str, str], list[str]]] = []

    def entrypoint(env: dict[str, str], command: list[str]) -> int:
        seen.append((env, command))
        return 0

    aws.register_ecs_entrypoint("runner", entrypoint)
    result = aws.start_and_wait(_ecs_workflow(aws), {"command": ["run", "node-1"], "node": "n1"})

    assert result.output == {"exit": 0}
    assert seen == [({"STAGE": "test", "NODE": "n1"}, ["run", "node-1"])]
    assert aws.runtime_errors() == []


def test_spot_interruption_is_visible_in_the_cause(aws: EmulatedAws) -> None:
    def reclaimed(env: dict[str, str], command: list[str]) -> int:
        raise SpotInterruption

    aws.register_ecs_entrypoint("runner", reclaimed)
    result = aws.start_and_wait(_ecs_workflow(aws), {"command": ["run"], "node": "n1"})

    task = result.output["task"]
    assert task["StopCode"] == "SpotInterruption"
    assert task["Containers"][0]["ExitCode"] == 143
    assert task["CapacityProviderName"] == "FARGATE_SPOT"


# --- states:startExecution.sync:2 ---------------------------------------------------------------


def test_start_execution_sync2_returns_the_child_output(aws: EmulatedAws) -> None:
    double = aws.register_lambda("double", lambda event, context: {"y": event["x"] * 2})
    child = aws.create_state_machine("child", machine("T", T=lambda_task(End=True)), {"RunnerFn": double})
    parent_task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "${Child}", "Input": {"x.$": "$.x"}},
        "OutputPath": "$.Output",
        "End": True,
    }
    parent = aws.create_state_machine("parent", machine("Call", Call=parent_task), {"Child": child})

    result = aws.start_and_wait(parent, {"x": 21})

    assert result.output == {"y": 42}
    assert aws.runtime_errors() == []


# --- harness behaviour ------------------------------------------------------------------------


def test_missing_substitution_is_a_config_error(aws: EmulatedAws) -> None:
    with pytest.raises(errors.ConfigError, match="RunnerFn"):
        aws.create_state_machine("m", machine("T", T=lambda_task(End=True)))


def test_the_role_made_in_the_backend_is_the_one_create_role_makes(aws: EmulatedAws) -> None:
    iam = aws.client("iam")
    policy = iam.get_role(RoleName=aws.role_arn.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
    iam.create_role(RoleName="by-request", AssumeRolePolicyDocument=json.dumps(policy))

    def described(name: str) -> dict[str, Any]:
        role = dict(iam.get_role(RoleName=name)["Role"])
        del role["RoleId"], role["CreateDate"]
        return json.loads(json.dumps(role).replace(name, "<name>"))

    assert aws.role_arn == "arn:aws:iam::123456789012:role/stratoflow-emulated"
    assert described("stratoflow-emulated") == described("by-request")
    assert described("by-request")["Path"] == "/" and described("by-request")["MaxSessionDuration"] == 3600


def test_cache_table_is_usable_from_handlers(aws: EmulatedAws) -> None:
    aws.create_cache_table("cache")

    def cached(event: dict[str, Any], context: FakeLambdaContext) -> Any:
        table = boto3.resource("dynamodb").Table("cache")
        table.put_item(Item={"pk": event["key"], "value": "hit"})
        return table.get_item(Key={"pk": event["key"]})["Item"]["value"]

    arn = aws.create_state_machine(
        "m", machine("T", T=lambda_task(End=True)), {"RunnerFn": aws.register_lambda("cached", cached)}
    )
    assert aws.start_and_wait(arn, {"key": "k1"}).output == "hit"


def test_fake_context_carries_the_function_settings(aws: EmulatedAws) -> None:
    contexts: list[FakeLambdaContext] = []
    aws.register_lambda(
        "ctx", lambda event, context: contexts.append(context) or {}, timeout=30, memory_size=256
    )
    aws.client("lambda").invoke(FunctionName="ctx", Payload=b"{}")
    (context,) = contexts
    assert (context.function_name, context.memory_limit_in_mb) == ("ctx", 256)
    assert context.invoked_function_arn.endswith(":function:ctx")
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id


def test_credentials_are_fake_inside_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    with EmulatedAws(region="eu-west-1") as aws:
        assert os.environ["AWS_ACCESS_KEY_ID"]  # moto's or the harness's fake key
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_ENDPOINT_URL" not in os.environ
        aws.create_bucket("regional-bucket")
        assert aws.client("s3").list_buckets()["Buckets"][0]["Name"] == "regional-bucket"
    assert os.environ["AWS_PROFILE"] == "production"
    assert os.environ["AWS_ENDPOINT_URL"] == "https://example.invalid"
    assert "AWS_ACCESS_KEY_ID" not in os.environ


def test_exit_stops_running_executions() -> None:
    with EmulatedAws(timer_scale=1.0) as aws:  # a real hour-long wait
        arn = aws.create_state_machine("slow", machine("W", W={"Type": "Wait", "Seconds": 3600, "End": True}))
        execution = aws.start_execution(arn, {})
        assert aws.client("stepfunctions").describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert prune_tmp_threads() == 0  # no interpreter thread outlives the mock


def test_importing_stratoflow_does_not_import_the_testing_tier() -> None:
    sdk = Path(__file__).resolve().parents[2] / "sdk"
    code = "import sys, stratoflow; print('moto' in sys.modules, 'stratoflow.testing' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(sdk)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- pure helpers -------------------------------------------------------------------------------


def test_batch_items_honours_count_bytes_and_batch_input() -> None:
    assert batch_items([1, 2, 3], {"MaxItemsPerBatch": 2}) == [{"Items": [1, 2]}, {"Items": [3]}]
    assert batch_items(["aaaa", "bbbb"], {"MaxInputBytesPerBatch": 8}) == [
        {"Items": ["aaaa"]},
        {"Items": ["bbbb"]},
    ]
    assert batch_items([1], {"BatchInput": {"k": 1}}) == [{"Items": [1], "BatchInput": {"k": 1}}]


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "exceeded"),
    [
        (0, 4, 0, 0.0, False),
        (1, 4, 0, 0.0, True),
        (1, 4, 1, 0.0, False),
        (2, 4, 0, 50.0, False),
        (3, 4, 0, 50.0, True),
    ],
)
def test_tolerance_rule(failed: int, total: int, count: int, percentage: float, exceeded: bool) -> None:
    assert tolerance_exceeded(failed, total, count, percentage) is exceeded


@pytest.mark.parametrize(
    ("path", "definite"),
    [
        ("$.a[0].b", True),
        ("$", True),
        ("$['x:y']", True),
        ("$.a[*].b", False),
        ("$..b", False),
        ("$.a[0:2]", False),
    ],
)
def test_definite_paths(path: str, definite: bool) -> None:
    assert is_definite_path(path) is definite


def test_rewrite_definition_reaches_nested_maps() -> None:
    inner = {
        "Type": "Map",
        "ToleratedFailurePercentage": 5,
        "ItemProcessor": machine("P", P={"Type": "Pass"}),
    }
    outer = machine("Par", Par={"Type": "Parallel", "Branches": [machine("M", M=inner)]})
    rewritten = json.loads(rewrite_definition(json.dumps(outer)))
    assert rewritten["States"]["Par"]["Branches"][0]["States"]["M"]["ToleratedFailurePercentage"] == 5.0


def test_in_process_code_gets_the_harness_clients_from_boto3s_default_session() -> None:
    before = boto3.DEFAULT_SESSION
    with EmulatedAws() as aws:
        aws.create_bucket(BUCKET)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            s3 = boto3.client("s3")  # as the runner Lambda makes its clients
            s3.put_object(Bucket=BUCKET, Key="from-lambda", Body=b"x")
            return {"same": s3 is aws.client("s3")}

        fn = aws.register_lambda("shared", handler)
        arn = aws.create_state_machine("sm", machine("T", T=lambda_task(End=True)), {"RunnerFn": fn})
        assert aws.start_and_wait(arn, {}).output == {"same": True}
        assert aws.client("s3").get_object(Bucket=BUCKET, Key="from-lambda")["Body"].read() == b"x"
        # A client asked for with options of its own is its own, as boto3 makes it.
        regional = boto3.client("s3", region_name="eu-west-1")
        assert regional is not aws.client("s3")
        assert regional.meta.region_name == "eu-west-1"
    assert boto3.DEFAULT_SESSION is before  # the caller's default session is back


def test_exit_lists_no_executions_once_every_one_has_ended() -> None:
    calls: list[str] = []
    with EmulatedAws() as aws:
        arn = aws.create_state_machine("done", machine("P", P={"Type": "Pass", "End": True}))
        assert aws.start_and_wait(arn, {}).status == "SUCCEEDED"
        while prune_tmp_threads():  # the worker may still be returning once its status is final
            time.sleep(0.001)
        aws.client("stepfunctions").meta.events.register(
            "before-call.sfn", lambda model, **_: calls.append(model.name)
        )
    assert calls == []  # no thread left to stop, so nothing to list
    assert prune_tmp_threads() == 0
