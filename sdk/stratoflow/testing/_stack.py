"""Deploy the REAL synthesized CDK app into moto's CloudFormation, the way ``cdk deploy`` does.

Where ``Sandbox`` creates resources one by one and fills ASL placeholders itself, this
path runs the cloud assembly: the bootstrap version parameter, the file assets published
to the bootstrap bucket, ``CreateStack`` from the template's S3 URL, and the stack's own
outputs. Emulated runs then exercise the stack's wiring (definition substitutions,
function and task-definition environments, the IR upload custom resource, outputs).

What stays emulated: the runner Lambda and the Fargate containers run this process's
``stratoflow_functions.task_runner.handler`` and ``stratoflow_functions.container_entrypoint`` (not the code in
the uploaded zip, nor an image, which is never built); resource types moto's
CloudFormation lacks (alarms, bucket policies, capacity provider associations) are
skipped and listed in ``StackDeployment.skipped_resource_types``.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from stratoflow import errors, ir
from stratoflow.client import Client, Execution
from stratoflow.testing import _patches_actors
from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._stack_routing import (
    StackDeployError,
    route_runner,
    route_task_definitions,
    stack_resources,
)
from stratoflow.testing._stack_triggers import route_schedule_starter, route_trigger_starter
from stratoflow.testing._synth import synth_app

__all__ = ["StackDeployError", "StackDeployment", "StackSandbox", "deploy_stack", "synth_app"]

TEST_CONTEXT: Mapping[str, Any] = {"stratoflow:runnerDependencies": "fake-for-tests"}
"""Context ``StackSandbox`` synthesizes with: no pip download (the code never runs from the zip)."""

_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


@dataclass(frozen=True)
class StackDeployment:
    """A created stack: its outputs and a ``Client`` built from them (``Client.from_stack``).

    Attributes:
        stack_name: The CloudFormation stack name.
        outputs: Output key -> value (``BucketName``, ``StateMachines``, ...).
        client: A client for the stack's bucket and state machines.
        runner_function: Physical name of the first workflow's runner Lambda (routed in-process).
        runner_functions: Physical names of every workflow's runner Lambda (each workflow has its own).
        image_functions: Physical names of the container-image runner functions (routed in-process).
        task_families: ECS task-definition families (routed to the in-process entrypoint).
        skipped_resource_types: Types moto's CloudFormation does not create.
        trigger_function: Physical name of the S3 trigger starter (routed in-process), if any.
        schedule_function: Physical name of the schedule starter (routed in-process), if any.
        actor_workers: Actor environment name -> its emulated workers (``starts``, ``running()``).
    """

    stack_name: str
    outputs: dict[str, str]
    client: Client
    runner_function: str
    task_families: tuple[str, ...]
    skipped_resource_types: tuple[str, ...]
    trigger_function: str | None = None
    image_functions: tuple[str, ...] = ()
    runner_functions: tuple[str, ...] = ()
    schedule_function: str | None = None
    actor_workers: Mapping[str, _patches_actors.WorkerFamily] = field(default_factory=dict)


def _fill(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def _zip_directory(directory: Path) -> bytes:
    """What the CDK CLI uploads for a ``zip`` asset: the directory's files, paths relative to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _publish_file_assets(
    aws: EmulatedAws, template_dir: Path, manifest: dict[str, Any], account: str
) -> None:
    """Upload every file asset to its bootstrap bucket; container images are not built."""
    s3 = aws.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for asset in manifest.get("files", {}).values():
        source = template_dir / asset["source"]["path"]
        body = _zip_directory(source) if source.is_dir() else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = _fill(destination["bucketName"], account, aws.region)
            if bucket not in existing:
                aws.create_bucket(bucket)
                existing.add(bucket)
            s3.put_object(Bucket=bucket, Key=_fill(destination["objectKey"], account, aws.region), Body=body)


def _stack_artifact(template_dir: Path, stack_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stack's artifact properties and its asset manifest, from the assembly's manifest.json."""
    artifacts = json.loads((template_dir / "manifest.json").read_text())["artifacts"]
    for artifact_id, artifact in artifacts.items():
        props = artifact.get("properties", {})
        if (
            artifact["type"] == "aws:cloudformation:stack"
            and props.get("stackName", artifact_id) == stack_name
        ):
            assets: dict[str, Any] = {}
            for dependency in artifact.get("dependencies", []):
                if artifacts.get(dependency, {}).get("type") == "cdk:asset-manifest":
                    assets = json.loads(
                        (template_dir / artifacts[dependency]["properties"]["file"]).read_text()
                    )
            return props, assets
    raise StackDeployError(f"no stack {stack_name!r} in the cloud assembly {template_dir}")


def _why_not_created(aws: EmulatedAws, stack_name: str, account: str) -> list[str]:
    # Imported here: moto's CloudFormation imports every service's models (a Sandbox needs none).
    from moto.cloudformation.models import cloudformation_backends  # noqa: PLC0415

    cfn = aws.client("cloudformation")
    reasons = [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
        for e in cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        if e["ResourceStatus"].endswith("FAILED")
    ]
    stack = cloudformation_backends[account][aws.region].get_stack(stack_name)
    reasons += [
        f"{name} ({getattr(resource, 'cf_resource_type', 'Custom')}): no provider reply (no in-process handler)"
        for name, resource in stack.custom_resources.items()
        if not resource.is_created() and not any(r.startswith(f"{name} ") for r in reasons)
    ]
    return reasons


def _create_stack(aws: EmulatedAws, stack_name: str, template_url: str, timeout: float) -> None:
    """CreateStack as the CLI does (all capabilities acknowledged) and wait for CREATE_COMPLETE."""
    cfn = aws.client("cloudformation")
    account = aws.client("sts").get_caller_identity()["Account"]
    cfn.create_stack(StackName=stack_name, TemplateURL=template_url, Capabilities=_CAPABILITIES)
    deadline = time.monotonic() + timeout
    status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    while status.endswith("_IN_PROGRESS") and time.monotonic() < deadline:
        # moto creates synchronously; only a custom resource without a handler keeps it here.
        time.sleep(0.05)
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        reasons = _why_not_created(aws, stack_name, account) or ["no resource reported a reason"]
        raise StackDeployError(
            f"stack {stack_name!r} is {status}, not CREATE_COMPLETE:\n"
            + "\n".join(f"{i}. {r}" for i, r in enumerate(reasons, 1))
        )


def _skipped_types(aws: EmulatedAws, stack_name: str) -> tuple[str, ...]:
    """Types of template resources moto did not create (no CloudFormation model)."""
    cfn = aws.client("cloudformation")
    template = cfn.get_template(StackName=stack_name)["TemplateBody"]
    resources = (json.loads(template) if isinstance(template, str) else template)["Resources"]
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    created = {r["LogicalResourceId"] for page in pages for r in page["StackResourceSummaries"]}
    return tuple(sorted({r["Type"] for k, r in resources.items() if k not in created}))


def deploy_stack(
    aws: EmulatedAws, template_dir: Path, stack_name: str, *, timeout: float = 30
) -> StackDeployment:
    """Deploy stack ``stack_name`` of the cloud assembly ``template_dir`` into ``aws``, as ``cdk deploy`` would.

    Puts the bootstrap version parameter, publishes the file assets (directories zipped),
    creates the stack from the template's asset URL, waits for CREATE_COMPLETE, then
    routes the runner function and every task-definition family to in-process code.

    Raises:
        StackDeployError: the stack did not complete (each failing resource and its reason).

    Example:
        >>> with EmulatedAws() as aws:  # doctest: +SKIP
        ...     deployment = deploy_stack(aws, synth_app(Path("."), TEST_CONTEXT), "Stratoflow")
        ...     deployment.client.run(pipeline, parts=4).wait().outputs()
    """
    account = aws.client("sts").get_caller_identity()["Account"]
    props, assets = _stack_artifact(template_dir, stack_name)
    parameter = props.get("bootstrapStackVersionSsmParameter")
    if parameter:
        version = str(props.get("requiresBootstrapStackVersion", 6))
        aws.client("ssm").put_parameter(Name=parameter, Value=version, Type="String", Overwrite=True)
    _publish_file_assets(aws, template_dir, assets, account)
    bucket, _, key = (
        _fill(props["stackTemplateAssetObjectUrl"], account, aws.region).removeprefix("s3://").partition("/")
    )
    template_url = f"https://s3.{aws.region}.amazonaws.com/{bucket}/{key}"
    _create_stack(aws, stack_name, template_url, timeout)
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    runners, image_runners = route_runner(aws, stack_name)
    functions = stack_resources(aws, stack_name, "AWS::Lambda::Function")
    families, workers = route_task_definitions(aws, stack_name)
    return StackDeployment(
        stack_name=stack_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        client=Client.from_stack(stack_name, session=aws.session),
        runner_function=runners[0],
        runner_functions=runners,
        image_functions=image_runners,
        task_families=families,
        actor_workers=workers,
        skipped_resource_types=_skipped_types(aws, stack_name),
        trigger_function=route_trigger_starter(aws, functions),
        schedule_function=route_schedule_starter(aws, functions),
    )


class StackSandbox:
    """The project's CDK app, synthesized once per process and deployed into emulated AWS.

    Slower to start than ``Sandbox`` (a synth, about 5 s), but what runs is what
    ``cdk deploy`` would create.

    Example:
        >>> with StackSandbox(project_dir=Path(".")) as stack:  # doctest: +SKIP
        ...     stack.run(lower(training), {"parts": 4}).outputs()
    """

    def __init__(
        self,
        *,
        project_dir: Path | None = None,
        context: Mapping[str, Any] = TEST_CONTEXT,
        stack_name: str = "Stratoflow",
        aws: EmulatedAws | None = None,
        template_dir: Path | None = None,
    ) -> None:
        """Configure; ``template_dir`` is an already synthesized cloud assembly to deploy
        instead of synthesizing one (a test session synthesizes the app once and shares it)."""
        self.template_dir = template_dir
        self.project_dir = project_dir or Path.cwd()
        self.context = dict(context)
        self.stack_name = stack_name
        self._own_aws = aws is None
        self.aws = aws or EmulatedAws()
        self._deployment: StackDeployment | None = None

    @property
    def deployment(self) -> StackDeployment:
        """The deployed stack (outputs, client)."""
        if self._deployment is None:
            raise errors.ConfigError("StackSandbox is not active: use it as a context manager")
        return self._deployment

    @property
    def client(self) -> Client:
        """A client for the deployed stack, built from its outputs."""
        return self.deployment.client

    def __enter__(self) -> Self:
        template_dir = self.template_dir or synth_app(self.project_dir, self.context)
        if self._own_aws:
            self.aws.__enter__()
        try:
            self._deployment = deploy_stack(self.aws, template_dir, self.stack_name)
        except BaseException:
            if self._own_aws:
                self.aws.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for family in self._deployment.task_families if self._deployment else ():
            _patches_actors.unregister_actor_worker(family)  # stop its workers (none if not an actor's)
        self._deployment = None
        if self._own_aws:
            self.aws.__exit__(exc_type, exc, tb)

    def run(self, spec: ir.WorkflowSpec, inputs: Mapping[str, Any], *, timeout: float = 120) -> Execution:
        """Submit to the stack's state machine and wait for the execution; raises if it failed."""
        return self.client.submit(spec, inputs).wait(timeout=timeout)
