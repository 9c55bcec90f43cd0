"""Every default the constructs use, in one place (STYLE §8): change a default here, not in a construct."""

from __future__ import annotations

from typing import Final, Literal

from aws_cdk import aws_logs as logs

from stratoflow.ir import protocol

Architecture = Literal["arm64", "x86_64"]

# -- Lambda (the task runner) -------------------------------------------------------------
PYTHON_VERSION: Final = "3.12"
"""The runner's Python: DESIGN fixes 3.12, the version the IR and wheels are tested with."""

LAMBDA_ARCHITECTURE: Final[Architecture] = "arm64"
"""Graviton: about 20% cheaper per GB-second for the same work; every dependency ships arm64 wheels."""

PIP_PLATFORMS: Final[dict[Architecture, str]] = {
    "arm64": "manylinux2014_aarch64",
    "x86_64": "manylinux2014_x86_64",
}
"""pip ``--platform`` per Lambda architecture (Amazon Linux 2023 is manylinux2014-compatible)."""

RUNNER_REQUIREMENTS: Final[tuple[str, ...]] = (
    # Pinned to what the test suite runs against, so the Lambda runs what was tested.
    "pydantic==2.14.4",
    "aws-lambda-powertools[tracer]==3.37.0",
    # Bundled rather than taken from the Lambda runtime: the tracer extra brings its own
    # botocore, and a runtime boto3 paired with a newer botocore is an untested mix.
    "boto3==1.44.8",
)
"""What the runner imports beyond the standard library and the bundled sources."""

CONTAINER_REQUIREMENTS: Final[tuple[str, ...]] = ("pydantic==2.14.4", "boto3==1.44.8")
"""The container entrypoint needs no powertools (it logs JSON lines to stderr itself)."""

RUNNER_HANDLER: Final = "stratoflow_functions.task_runner.handler"
RUNNER_MEMORY_MIB: Final = 1024
"""Floor of the runner's memory; the stack raises it to the largest Lambda-routed task's request."""
RUNNER_TIMEOUT_SECONDS: Final = 900
"""Lambda's maximum: routing sends a task to Lambda only when its timeout fits in 15 minutes."""

TRIGGER_STARTER_HANDLER: Final = "stratoflow_functions.trigger_starter.handler"
TRIGGER_STARTER_MEMORY_MIB: Final = 256
"""The starter copies objects server-side and hashes by S3 checksum: it needs little memory."""
TRIGGER_STARTER_TIMEOUT_SECONDS: Final = 300
"""Room for a multipart server-side copy of a large object (and a streamed hash) before starting."""
TRIGGER_STARTER_RETRY_ATTEMPTS: Final = 2
"""Lambda's own retries of an asynchronous (EventBridge) invocation before the event goes to the DLQ."""
TRIGGER_DLQ_RETENTION_DAYS: Final = 14
"""SQS's maximum: time to see a failed trigger event and redrive it."""

CACHE_TTL_DAYS: Final = 30
"""How long a cache entry lives (the runner writes ``ttl``; DynamoDB deletes it afterwards)."""

# -- S3 -------------------------------------------------------------------------------------
RUNS_EXPIRE_DAYS: Final = 30
"""Per-run intermediates (node outputs, map items) are only needed while a run is inspected."""
NONCURRENT_VERSIONS_EXPIRE_DAYS: Final = 7
"""Versioning guards against overwrites; old versions only need to outlive a mistake."""
ACCESS_LOGS_EXPIRE_DAYS: Final = 90

# -- Logs -----------------------------------------------------------------------------------
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH

# -- Fargate --------------------------------------------------------------------------------
MAX_AZS: Final = len(protocol.SUBNETS)
"""The compiled ASL names one subnet per AZ (``protocol.SUBNETS``)."""
NAT_GATEWAYS: Final = 1
"""One NAT gateway (not one per AZ): tasks are batch jobs that Step Functions retries."""
CONTAINER_COMMAND: Final[tuple[str, ...]] = ("python", "-m", "stratoflow_functions.container_entrypoint")
CONTAINER_BASE_IMAGE: Final = "python:3.12-slim"
"""Base of the generated container build context (a Docker Hub short name, overridable)."""
DEFAULT_FARGATE_EPHEMERAL_GIB: Final = 21
CONTAINER_USER: Final = "1000:1000"
"""Non-root, as the generated Dockerfile's ``USER``; set on the task and job definitions too, so an
image named in context (``stratoflow:containerImage``) runs unprivileged as well."""
CONTAINER_SCRATCH_VOLUME: Final = "scratch"
CONTAINER_SCRATCH_DIR: Final = "/scratch"
"""The one writable path of the container (its root filesystem is read-only)."""
CONTAINER_SCRATCH_ENVIRONMENT: Final = {"TMPDIR": CONTAINER_SCRATCH_DIR}
"""``tempfile`` (downloaded ``File``/``Directory`` inputs, staged outputs) honours ``TMPDIR``."""
HTTPS_PORT: Final = 443
"""The tasks' only egress port: AWS APIs and package indexes are all HTTPS."""
BATCH_MAX_VCPUS: Final = 256
"""Ceiling of each Batch compute environment: a spend guard, and room for the largest (192 vCPU) instance."""

# -- Step Functions -------------------------------------------------------------------------
FAILED_EXECUTIONS_ALARM_THRESHOLD: Final = 1

# -- Context keys (cdk.json) ------------------------------------------------------------------
CONTEXT_WORKFLOWS: Final = "stratoflow:workflows"
CONTEXT_STACK_NAME: Final = "stratoflow:stackName"
CONTEXT_STAGE: Final = "stratoflow:stage"
CONTEXT_LAMBDA_ARCHITECTURE: Final = "stratoflow:lambdaArchitecture"
CONTEXT_CONTAINER_IMAGE: Final = "stratoflow:containerImage"
CONTEXT_RUNNER_DEPENDENCIES: Final = "stratoflow:runnerDependencies"
CONTEXT_BUNDLE_CACHE_DIR: Final = "stratoflow:bundleCacheDir"
CONTEXT_CACHE_TTL_DAYS: Final = "stratoflow:cacheTtlDays"
CONTEXT_KMS: Final = "stratoflow:kms"
"""``true``: one customer-managed KMS key (rotated) encrypts the bucket, the cache table, the log groups
and the starter's dead-letter queue, instead of AWS-owned/managed keys."""
CONTEXT_RUNNER_RESERVED_CONCURRENCY: Final = "stratoflow:runnerReservedConcurrency"
"""A positive integer: the runner's reserved concurrency (a cap on parallel tasks and a floor kept free
for them); unset: the runner shares the account's unreserved pool."""
STACK_NAME: Final = "Stratoflow"
BUNDLE_CACHE_DIR: Final = ".stratoflow/cdk-cache"
"""Relative to the working directory (``cdk`` runs at the repo root, where it is gitignored)."""

SCHEDULE_STARTER_HANDLER: Final = "stratoflow_functions.schedule_starter.handler"
SCHEDULE_STARTER_MEMORY_MIB: Final = 256
"""The schedule starter writes one small inputs object and starts one execution."""
SCHEDULE_STARTER_TIMEOUT_SECONDS: Final = 60
SCHEDULE_RETRY_ATTEMPTS: Final = 5
"""Scheduler's retries of a failed delivery (throttled, a starter error) before the DLQ; a retry
starts nothing twice, so retrying is always safe."""
SCHEDULE_MAX_EVENT_AGE_SECONDS: Final = 3600
"""An occurrence older than an hour is not worth starting late: it goes to the DLQ instead."""
SCHEDULE_FLEXIBLE_WINDOW: Final = "OFF"
"""Start on the scheduled minute: runs are named from their scheduled time, never from when they start."""
