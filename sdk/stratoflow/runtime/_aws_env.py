"""What a node runs with on AWS: the clients and settings (:class:`AwsRunnerEnv`), the specs and
recoveries a warm Lambda or container keeps, the checks of the events it accepts, and the
:class:`NodeContext` of a node of a run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from stratoflow import ir
from stratoflow.aws import DynamoCacheStore, S3BlobStore, S3OutputStore, S3RunStorage
from stratoflow.cache import CacheStore, OverwritingCacheStore
from stratoflow.define import SecretStore
from stratoflow.errors import IntegrityError
from stratoflow.ir import protocol
from stratoflow.runtime._aws_settings import RunnerSettings
from stratoflow.runtime._dynamic import sub_run_id
from stratoflow.runtime._recovery import Recovery
from stratoflow.runtime._remote_records import RecordWriter, Where
from stratoflow.runtime._runner import NodeContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

__all__ = [
    "AwsRunnerEnv",
    "check_interpreter_event",
    "event_workflow",
    "load_run_options",
    "load_spec",
    "node_context",
]


@dataclass(frozen=True)
class AwsRunnerEnv:
    """The clients and settings a node runs with."""

    s3: S3Client
    dynamodb: DynamoDBClient
    settings: RunnerSettings
    where: Where = field(default_factory=Where)  # what this process's node records say it ran on

    def records(self, workflow: str, run_id: str) -> RecordWriter:
        """The writer of (sub-)run ``run_id``'s node records (of ``workflow``)."""
        return RecordWriter(self.s3, self.settings.bucket, workflow, run_id, self.where)

    # Requested secrets fetched at run time (Lambda); None in a container, whose secrets ECS injects.
    secrets: SecretStore | None = None


_SPECS: dict[tuple[str, str], ir.WorkflowSpec] = {}
_SPECS_LOCK = threading.Lock()
T = TypeVar("T")


def load_spec(env: AwsRunnerEnv, key: str) -> ir.WorkflowSpec:
    """The IR stored at ``key`` (content-addressed, so it is cached for the process lifetime).

    Only what was deployed (or planned by this runner) is loaded: a key outside the spec
    prefixes or not hash-named is refused unread, and bytes whose sha256 is not the one the
    key names are refused unparsed.
    """
    if protocol.spec_key_prefix(key) is None:
        raise IntegrityError(
            f"spec key {key!r:.120} is not a hash-named key under {protocol.SPECS_PREFIX} or "
            f"{protocol.DYNAMIC_SPECS_PREFIX}: refused",
            uri=key,
        )
    cache_key = (env.settings.bucket, key)
    with _SPECS_LOCK:
        spec = _SPECS.get(cache_key)
    if spec is None:
        body = env.s3.get_object(Bucket=env.settings.bucket, Key=key)["Body"].read()
        if not protocol.spec_digest_ok(key, body):
            raise IntegrityError(f"spec {key} does not hash to its name: refused", uri=key)
        spec = ir.WorkflowSpec.model_validate_json(body)
        with _SPECS_LOCK:
            _SPECS[cache_key] = spec
    return spec


def event_workflow(event: protocol.NodeEvent) -> str:
    """The workflow an event's run belongs to: the one its spec key names (``protocol.spec_workflow``).

    A workflow's runner may read only its own workflow's specs (IAM), so an event naming another
    workflow's spec fails there, before anything is run or written.
    """
    workflow = protocol.spec_workflow(event.spec)
    if workflow is None:
        raise IntegrityError(
            f"spec key {event.spec!r:.120} is not a hash-named key under {protocol.SPECS_PREFIX} or "
            f"{protocol.DYNAMIC_SPECS_PREFIX}: refused",
            uri=event.spec,
        )
    return workflow


def check_interpreter_event(event: protocol.NodeEvent, env: AwsRunnerEnv) -> None:
    """The ``@dynamic`` interpreter's events name their sub-spec and sub-run from its execution input:
    accept only a sub-run this runner planned (its record), with the sub-spec it planned."""
    key = protocol.dynamic_run_key(event_workflow(event), event.run)
    problem = f"{event.mode} event for run {event.run!r:.100} with spec {event.spec!r:.120}"
    if protocol.spec_key_prefix(event.spec) != protocol.DYNAMIC_SPECS_PREFIX:
        raise IntegrityError(f"{problem}: not a {protocol.DYNAMIC_SPECS_PREFIX} key: refused", uri=event.spec)
    try:
        record = protocol.DynamicRunRecord.model_validate_json(
            env.s3.get_object(Bucket=env.settings.bucket, Key=key)["Body"].read()
        )
    except env.s3.exceptions.NoSuchKey as exc:
        raise IntegrityError(
            f"{problem}: no dynamic sub-run was planned under that id: refused", uri=key
        ) from exc
    if record.spec != event.spec or sub_run_id(record.parent, record.node) != event.run:
        raise IntegrityError(f"{problem}: not the sub-run and spec that were planned: refused", uri=key)


_RUN_OBJECTS_MAX = 1024  # runs a warm container remembers (one small record each, per kind)
_RECOVERIES: dict[tuple[str, str, str], Recovery | None] = {}
_RUN_OPTIONS: dict[tuple[str, str, str], protocol.ExecutionOptions] = {}


def _read_once_per_run(
    memo: dict[tuple[str, str, str], T],
    env: AwsRunnerEnv,
    workflow: str,
    run_id: str,
    *,
    key: str,
    parse: Callable[[bytes | None], T],
) -> T:
    """``parse`` of the run object at ``key`` (``None`` when there is none), read once per run and
    container: the client writes these before the execution starts and never changes them."""
    cache_key = (env.settings.bucket, workflow, run_id)
    with _SPECS_LOCK:
        if cache_key in memo:
            return memo[cache_key]
    try:
        body: bytes | None = env.s3.get_object(Bucket=env.settings.bucket, Key=key)["Body"].read()
    except env.s3.exceptions.NoSuchKey:
        body = None
    value = parse(body)
    with _SPECS_LOCK:
        if len(memo) >= _RUN_OBJECTS_MAX:
            memo.clear()
        memo[cache_key] = value
    return value


def load_recovery(env: AwsRunnerEnv, workflow: str, run_id: str) -> Recovery | None:
    """What run ``run_id`` of ``workflow`` reuses from the run it recovers (``Client.recover`` wrote it
    before the start), or ``None`` for a run that recovers nothing; read once per run and container."""
    return _read_once_per_run(
        _RECOVERIES,
        env,
        workflow,
        run_id,
        key=protocol.recovery_key(workflow, run_id),
        parse=lambda body: None if body is None else Recovery.from_json(body),
    )


def _run_options(body: bytes | None) -> protocol.ExecutionOptions:
    return (
        protocol.ExecutionOptions() if body is None else protocol.ExecutionOptions.model_validate_json(body)
    )


def load_run_options(env: AwsRunnerEnv, workflow: str, run_id: str) -> protocol.ExecutionOptions:
    """The options the client gave run ``run_id`` of ``workflow`` (``Client.submit(cache=False)``),
    or the defaults when it stored none; read once per run and container, as the recovery is."""
    return _read_once_per_run(
        _RUN_OPTIONS,
        env,
        workflow,
        run_id,
        key=protocol.run_options_key(workflow, run_id),
        parse=_run_options,
    )


def node_context(env: AwsRunnerEnv, workflow: str, run_id: str, spec: ir.WorkflowSpec) -> NodeContext:
    blobs = S3BlobStore(env.s3, env.settings.bucket)
    options = load_run_options(env, workflow, run_id)
    cache: CacheStore = DynamoCacheStore(
        env.dynamodb, env.settings.cache_table, blobs=blobs, ttl_seconds=env.settings.cache_ttl_seconds
    )
    return NodeContext(
        run_id=run_id,
        spec=spec,
        workflow=workflow,
        blobs=blobs,
        outputs=S3OutputStore(env.s3, env.settings.bucket, workflow, run_id),
        cache=OverwritingCacheStore(cache) if options.overwrite_cache else cache,
        storage=S3RunStorage(env.s3, env.settings.bucket),
        secret_store=env.secrets,
        recovery=load_recovery(env, workflow, run_id),
        use_cache=options.cache,
    )
