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

import atexit
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from stratoflow import errors, ir
from stratoflow.client import Client, Execution
from stratoflow.ir import protocol
from stratoflow.testing import _patches_actors
from stratoflow.testing._harness import EmulatedAws
from stratoflow.testing._patches_lambda import FakeLambdaContext
from stratoflow.testing._stack_triggers import route_schedule_starter, route_trigger_starter

__all__ = ["StackDeployError", "StackDeployment", "StackSandbox", "deploy_stack", "synth_app"]

RUNNER_HANDLER = "stratoflow_functions.task_runner.handler"
TEST_CONTEXT: Mapping[str, Any] = {"stratoflow:runnerDependencies": "fake-for-tests"}
"""Context ``StackSandbox`` synthesizes with: no pip download (the code never runs from the zip)."""

_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_SYNTH_CACHE: dict[tuple[str, str], Path] = {}
_SYNTH_LOCK = threading.Lock()


class StackDeployError(errors.ConfigError):
    """The stack did not reach CREATE_COMPLETE; the message names the failing resources."""


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


class _ProcessEnvironment:
    """``os.environ`` overlay for in-process Lambda invocations, shared by concurrent ones.

    A real function gets its configured environment per sandbox; in-process it can only
    be the process's. Concurrent invocations of one function (a Map) share one overlay,
    removed when the last ends. Two functions with different values at once cannot be
    emulated: that raises rather than letting one read the other's settings.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, str] | None = None
        self._users = 0
        self._saved: dict[str, str | None] = {}

    @contextmanager
    def overlay(self, values: Mapping[str, str]) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._active = dict(values)
                self._saved = {k: os.environ.get(k) for k in values}
                os.environ.update(values)
            elif self._active != dict(values):
                raise errors.ConfigError(
                    "two in-process Lambda functions with different environments overlap"
                )
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for key, value in self._saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                    self._active = None


_ENVIRONMENT = _ProcessEnvironment()


def synth_app(project_dir: Path, context: Mapping[str, Any] | None = None) -> Path:
    """Synthesize the CDK app of ``project_dir`` (its ``cdk.json``) once per process; return cdk.out.

    Runs ``cdk.json``'s ``app`` command in a subprocess, as the CDK CLI does (``CDK_OUTDIR``,
    ``CDK_CONTEXT_JSON``), with ``python`` meaning this interpreter. The SDK itself never
    imports the CDK app or ``aws_cdk``. ``context`` overrides ``cdk.json``'s context.

    Example:
        >>> outdir = synth_app(Path("."), TEST_CONTEXT)  # doctest: +SKIP
    """
    project_dir = project_dir.resolve()
    key = (str(project_dir), json.dumps(dict(context or {}), sort_keys=True))
    with _SYNTH_LOCK:
        if key in _SYNTH_CACHE:
            return _SYNTH_CACHE[key]
        command = shlex.split(json.loads((project_dir / "cdk.json").read_text())["app"])
        if command[0] in {"python", "python3"}:
            command[0] = sys.executable
        work = Path(tempfile.mkdtemp(prefix="stratoflow-synth-"))
        atexit.register(shutil.rmtree, work, ignore_errors=True)
        env = {
            **os.environ,
            "CDK_OUTDIR": str(work / "cdk.out"),
            "CDK_CONTEXT_JSON": json.dumps(
                {"stratoflow:bundleCacheDir": str(work / "bundle-cache"), **dict(context or {})}
            ),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
        done = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - the project's own app command
        if done.returncode != 0:
            raise errors.ConfigError(f"cdk synth ({shlex.join(command)}) failed:\n{done.stderr[-4000:]}")
        _SYNTH_CACHE[key] = work / "cdk.out"
        return _SYNTH_CACHE[key]


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


def _stack_resources(aws: EmulatedAws, stack_name: str, resource_type: str) -> list[str]:
    pages = aws.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
    return [
        r["PhysicalResourceId"]
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == resource_type
    ]


def _handler_of(configuration: Mapping[str, Any]) -> str | None:
    """The handler a function runs: its ``Handler``, or a container-image function's command."""
    if configuration.get("PackageType") == "Image":
        command = configuration.get("ImageConfigResponse", {}).get("ImageConfig", {}).get("Command", [])
        return str(command[0]) if command else None
    handler = configuration.get("Handler")
    return None if handler is None else str(handler)


def _route_runner(aws: EmulatedAws, stack_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Map the stack's runner functions (each workflow's zip one and its images') to the in-process
    handler, each under its own deployed environment; returns (zip runners, image runners)."""
    from stratoflow_functions import task_runner  # noqa: PLC0415 - needs the fake credentials set up

    lambda_client = aws.client("lambda")
    configurations = {
        name: lambda_client.get_function_configuration(FunctionName=name)
        for name in _stack_resources(aws, stack_name, "AWS::Lambda::Function")
    }
    runners = [name for name, c in configurations.items() if _handler_of(c) == RUNNER_HANDLER]
    zipped = [name for name in runners if configurations[name].get("PackageType") != "Image"]
    if not zipped:
        raise StackDeployError(f"expected a Lambda function with handler {RUNNER_HANDLER}, found none")

    def route(name: str) -> None:
        def handler(event: dict[str, Any], context: FakeLambdaContext) -> Any:
            # Read at every invocation, as a new Lambda sandbox would: a later
            # UpdateFunctionConfiguration applies to the next call.
            configuration = lambda_client.get_function_configuration(FunctionName=name)
            with _ENVIRONMENT.overlay(configuration.get("Environment", {}).get("Variables", {})):
                return task_runner.handler(event, context)

        aws.register_lambda_handler(name, handler)

    for name in runners:
        route(name)
    return tuple(sorted(zipped)), tuple(sorted(set(runners) - set(zipped)))


_SCRATCH: list[str] = []
_SCRATCH_LOCK = threading.Lock()


def _scratch() -> str:
    """The in-process containers' scratch volume (TMPDIR): one directory for the process, removed at exit.

    Not one per task: a container points ``tempfile.tempdir`` at its TMPDIR while it runs, and
    in-process containers and actor workers are threads of one process whose runs overlap and
    end in any order, so a per-task directory could be left as ``tempfile.tempdir`` after its
    removal (every later temp file of the process would then fail).
    """
    with _SCRATCH_LOCK:
        if not _SCRATCH:
            _SCRATCH.append(tempfile.mkdtemp(prefix="stratoflow-scratch-"))
            atexit.register(shutil.rmtree, _SCRATCH[0], ignore_errors=True)
        return _SCRATCH[0]


def _container_entrypoint(env: dict[str, str], command: list[str]) -> int:
    """The container's main on the task definition's environment plus the emulator's credentials."""
    from stratoflow_functions import container_entrypoint  # noqa: PLC0415 - only when a Fargate node runs

    aws_settings = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    if "TMPDIR" not in env:
        return container_entrypoint.run({**aws_settings, **env})
    return container_entrypoint.run({**aws_settings, **env, "TMPDIR": _scratch()})


def _actor_worker(env: dict[str, str], stop: threading.Event) -> int:
    """An actor worker on the task definition's environment, as a thread (short polls: it stops at once)."""
    from stratoflow_functions import actor_worker  # noqa: PLC0415 - only when an actor task runs

    aws_settings = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    # Heartbeat as often as the emulator's scaled HeartbeatSeconds needs.
    fast = {protocol.ENV_ACTOR_HEARTBEAT_SECONDS: "0.1"}
    if "TMPDIR" in env:
        env = {**env, "TMPDIR": _scratch()}  # the containers' one scratch directory (see _scratch)
    return actor_worker.run({**aws_settings, **env, **fast}, stop=stop, max_poll_seconds=1)


def _route_task_definitions(
    aws: EmulatedAws, stack_name: str
) -> tuple[tuple[str, ...], dict[str, _patches_actors.WorkerFamily]]:
    """Route every task definition in-process; returns the families and each actor environment's workers."""
    ecs = aws.client("ecs")
    families = []
    workers = {}
    for arn in _stack_resources(aws, stack_name, "AWS::ECS::TaskDefinition"):
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        family = definition["family"]
        environment = {
            e["name"]: e["value"]
            for c in definition["containerDefinitions"]
            for e in c.get("environment", [])
        }
        if protocol.ENV_ACTOR_QUEUE in environment:  # an actor environment's workers
            workers[environment[protocol.ENV_ACTOR_NAME]] = _patches_actors.register_actor_worker(
                family, _actor_worker
            )
        else:
            aws.register_ecs_entrypoint(family, _container_entrypoint)
        families.append(family)
    return tuple(families), workers


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
    runners, image_runners = _route_runner(aws, stack_name)
    functions = _stack_resources(aws, stack_name, "AWS::Lambda::Function")
    families, workers = _route_task_definitions(aws, stack_name)
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
