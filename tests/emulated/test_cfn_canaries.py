"""One canary per CloudFormation patch: moto 5.2.5 as shipped is still broken, and the patch fixes it.

Each ``test_raw_*`` asserts the *bad* behaviour of unpatched moto; when one fails, moto
changed, so check whether the patch it guards is still needed. The parser-backend and
substitution patches wrap the same moto methods, so a raw test installs exactly the
patches it needs and removes them in reverse order (never one from the middle).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stratoflow.testing import (
    EmulatedAws,
    Undo,
    install_cfn_lambda_images,
    install_cfn_sfn_parser_backend,
    install_lambda_inprocess,
)

pytestmark = pytest.mark.emulated

ROLE = "arn:aws:iam::123456789012:role/canary"
GREETING_MACHINE = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Result": {"hi": "${Greeting}"}, "End": True}},
}


@contextmanager
def only(*installs: Any) -> Iterator[None]:
    """Install just these patches (on raw moto) and remove them again, newest first."""
    undos: list[Undo] = [install() for install in installs]
    try:
        yield
    finally:
        for undo in reversed(undos):
            undo()


def create_stack(aws: EmulatedAws, resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    template = {"Resources": resources, "Outputs": {k: {"Value": v} for k, v in (outputs or {}).items()}}
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="canary", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    return str(cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"])


def stack_outputs(aws: EmulatedAws) -> dict[str, str]:
    stack = aws.client("cloudformation").describe_stacks(StackName="canary")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def state_machine_stack(aws: EmulatedAws) -> str:
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": json.dumps(GREETING_MACHINE),
            "DefinitionSubstitutions": {"Greeting": "hello"},
            "RoleArn": ROLE,
        },
    }
    create_stack(aws, {"Machine": machine}, {"Arn": {"Ref": "Machine"}})
    return stack_outputs(aws)["Arn"]


# --- install_cfn_sfn_parser_backend -------------------------------------------------------------


def test_raw_cfn_state_machine_does_not_exist_for_the_executing_api(raw_aws: EmulatedAws) -> None:
    arn = state_machine_stack(raw_aws)
    with pytest.raises(ClientError, match="StateMachineDoesNotExist"):
        raw_aws.client("stepfunctions").describe_state_machine(stateMachineArn=arn)


# --- install_cfn_definition_substitutions -------------------------------------------------------


def test_raw_definition_substitutions_are_ignored(raw_aws: EmulatedAws) -> None:
    with only(install_cfn_sfn_parser_backend):
        arn = state_machine_stack(raw_aws)
        definition = raw_aws.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${Greeting}" in definition


def test_cfn_state_machine_runs_with_its_substitutions(aws: EmulatedAws) -> None:
    result = aws.start_and_wait(state_machine_stack(aws), {})
    assert result.output == {"hi": "hello"}


# --- install_cfn_skip_unsupported ---------------------------------------------------------------

UNSUPPORTED = {
    "Bucket": {"Type": "AWS::S3::Bucket"},
    "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 1}},
}


def test_raw_unsupported_type_warns_at_every_walk_of_the_stack(raw_aws: EmulatedAws) -> None:
    with pytest.warns(UserWarning, match="AWS::CloudWatch::Alarm but it's not supported"):
        create_stack(raw_aws, UNSUPPORTED)
    with pytest.warns(UserWarning, match="AWS::CloudWatch::Alarm but it's not supported"):
        raw_aws.client("cloudformation").list_stack_resources(StackName="canary")


def test_skip_unsupported_leaves_the_resource_out_without_warning(aws: EmulatedAws) -> None:
    # filterwarnings = error: any UserWarning here fails the test.
    assert create_stack(aws, UNSUPPORTED) == "CREATE_COMPLETE"
    resources = aws.client("cloudformation").list_stack_resources(StackName="canary")[
        "StackResourceSummaries"
    ]
    # moto lists a skipped resource as a summary with an empty logical id.
    assert [r["LogicalResourceId"] for r in resources if r["LogicalResourceId"]] == ["Bucket"]


# --- install_cfn_custom_resources ---------------------------------------------------------------


def custom_aws(create: dict[str, Any]) -> dict[str, Any]:
    """A bucket, a provider function and a ``Custom::AWS`` resource, as CDK's AwsCustomResource emits."""
    return {
        "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "canary-data"}},
        "ProviderRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "Provider": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "canary-provider",
                "Runtime": "nodejs20.x",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["ProviderRole", "Arn"]},
                "Code": {"ZipFile": "exports.handler = async () => ({});"},
            },
        },
        "Upload": {
            "Type": "Custom::AWS",
            "DependsOn": ["Data"],
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]},
                "Create": json.dumps(create),
                "InstallLatestAwsSdk": False,
            },
        },
    }


PUT = {
    "service": "S3",
    "action": "PutObject",
    "parameters": {"Bucket": "canary-data", "Key": "specs/x.json", "Body": '{"a": 1}'},
    "physicalResourceId": {"id": "specs/x.json"},
}


def test_raw_custom_resource_waits_forever_for_an_asynchronous_reply(raw_aws: EmulatedAws) -> None:
    # Docker-free stand-in for the Node.js provider: record the request, reply nothing.
    delivered = threading.Event()
    requests: list[dict[str, Any]] = []

    def provider(event: dict[str, Any], context: Any) -> dict[str, Any]:
        requests.append(event)
        delivered.set()
        return {}

    with only(install_lambda_inprocess):
        raw_aws.register_lambda_handler("canary-provider", provider)
        status = create_stack(raw_aws, custom_aws(PUT))
        assert delivered.wait(10)
    assert status == "CREATE_IN_PROGRESS"
    assert requests[0]["ResponseURL"].endswith("/cfnresponse?stack=" + requests[0]["StackId"])
    assert raw_aws.client("s3").list_objects_v2(Bucket="canary-data").get("KeyCount") == 0


def test_custom_aws_resource_performs_its_sdk_call_during_create(aws: EmulatedAws) -> None:
    status = create_stack(aws, custom_aws(PUT), {"ETag": {"Fn::GetAtt": ["Upload", "ETag"]}})
    assert status == "CREATE_COMPLETE"
    body = aws.client("s3").get_object(Bucket="canary-data", Key="specs/x.json")["Body"].read()
    assert json.loads(body) == {"a": 1}
    resources = aws.client("cloudformation").list_stack_resources(StackName="canary")[
        "StackResourceSummaries"
    ]
    upload = next(r for r in resources if r["LogicalResourceId"] == "Upload")
    assert upload["PhysicalResourceId"] == "specs/x.json"
    assert stack_outputs(aws)["ETag"].strip('"')


def test_failing_custom_aws_call_leaves_the_stack_in_progress_with_a_reason(aws: EmulatedAws) -> None:
    create = {**PUT, "parameters": {**PUT["parameters"], "Bucket": "no-such-bucket"}}
    assert create_stack(aws, custom_aws(create)) == "CREATE_IN_PROGRESS"
    events = aws.client("cloudformation").describe_stack_events(StackName="canary")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Upload"]
    assert "NoSuchBucket" in failed[0]["ResourceStatusReason"]


def test_ignored_error_codes_complete_the_resource(aws: EmulatedAws) -> None:
    create = {**PUT, "parameters": {**PUT["parameters"], "Bucket": "no-such-bucket"}}
    assert (
        create_stack(aws, custom_aws({**create, "ignoreErrorCodesMatching": "NoSuch.*"})) == "CREATE_COMPLETE"
    )


# --- install_cfn_lambda_images -------------------------------------------------------------------

IMAGE_FUNCTION: dict[str, Any] = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "PackageType": "Image",
        "Code": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:1"},
        "ImageConfig": {"Command": ["stratoflow_functions.task_runner.handler"]},
    },
}


def _created_function(aws: EmulatedAws) -> dict[str, Any]:
    cfn = aws.client("cloudformation")
    function = {**IMAGE_FUNCTION, "Properties": {**IMAGE_FUNCTION["Properties"], "Role": aws.role_arn}}
    cfn.create_stack(StackName="canary", TemplateBody=json.dumps({"Resources": {"Fn": function}}))
    (name,) = [
        r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName="canary")["StackResourceSummaries"]
    ]
    configuration: dict[str, Any] = aws.client("lambda").get_function_configuration(FunctionName=name)
    return configuration


def test_raw_cfn_creates_an_image_function_as_a_zip_one_without_its_command(raw_aws: EmulatedAws) -> None:
    configuration = _created_function(raw_aws)
    assert configuration["PackageType"] == "Zip"
    assert "ImageConfigResponse" not in configuration


def test_patched_cfn_creates_an_image_function_with_its_command(raw_aws: EmulatedAws) -> None:
    undo = install_cfn_lambda_images()
    try:
        configuration = _created_function(raw_aws)
    finally:
        undo()
    assert configuration["PackageType"] == "Image"
    assert configuration["ImageConfigResponse"]["ImageConfig"]["Command"] == [
        "stratoflow_functions.task_runner.handler"
    ]
