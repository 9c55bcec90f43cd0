"""Start workflow executions from S3 "Object Created" events, exactly once per object version.

S3 delivers events at least once, and EventBridge cannot name the executions it starts,
so a small starter does it: the execution name is a hash of the bucket, key, object
version (the sequencer when the bucket is unversioned) and input name, so a redelivered
event asks Step Functions for an execution that already exists, and no second run starts
(Standard execution names stay taken for 90 days after the run closes).

The run starts as ``Client.submit``'s do (``start_run``), with two differences. The object version the event
names is copied under the run's prefix and that copy is the ``File`` input, so a later
upload to the same key is never read by this run. And the inputs are written only if
absent (``If-None-Match: *``): a redelivery never rewrites the inputs of a run that may
already be reading them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from stratoflow import ir
from stratoflow.aws import object_exists
from stratoflow.client._start import start_run
from stratoflow.errors import ConfigError
from stratoflow.ir import protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = [
    "S3ObjectEvent",
    "TriggerOutcome",
    "TriggerSettings",
    "TriggerTarget",
    "execution_name",
    "key_matches",
    "load_spec",
    "start_triggered_runs",
    "targets_json",
]

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class TriggerTarget(BaseModel):
    """One trigger as the stack deploys it: which state machine to start for which keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow: str
    state_machine_arn: str
    spec_key: str
    prefix: str = ""
    suffix: str = ""
    input: str


@dataclass(frozen=True)
class TriggerSettings:
    """The starter's settings from its environment (read per invocation, never at import time)."""

    bucket: str
    targets: tuple[TriggerTarget, ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TriggerSettings:
        missing = [name for name in (protocol.ENV_BUCKET, protocol.ENV_TRIGGERS) if not environ.get(name)]
        if missing:
            raise ConfigError(f"trigger starter settings missing from the environment: {', '.join(missing)}")
        try:
            raw = json.loads(environ[protocol.ENV_TRIGGERS])
            targets = tuple(TriggerTarget.model_validate(item) for item in raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{protocol.ENV_TRIGGERS} is not a JSON list of triggers: {exc}") from exc
        return cls(bucket=environ[protocol.ENV_BUCKET], targets=targets)


class _Bucket(BaseModel):
    name: str


class _Object(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None
    etag: str | None = None


class _Detail(BaseModel):
    bucket: _Bucket
    object: _Object


class S3ObjectEvent(BaseModel):
    """The parts of an EventBridge ``aws.s3`` / ``Object Created`` event the starter uses.

    ``detail.object.key`` is used as received: EventBridge events carry the key itself, as
    moto's do (S3 notification events URL-encode it, ``a b.csv`` -> ``a+b.csv``). Should a
    key arrive encoded after all, :func:`start_triggered_runs` falls back to the decoded
    form when the key as received does not exist.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: str
    detail_type: str = Field(alias="detail-type")
    detail: _Detail

    @property
    def bucket(self) -> str:
        return self.detail.bucket.name

    @property
    def key(self) -> str:
        return self.detail.object.key

    @property
    def version_id(self) -> str | None:
        """The object's version (``None`` in an unversioned bucket)."""
        version = self.detail.object.version_id
        return version if version and version != "null" else None

    @property
    def identity(self) -> str:
        """What tells one upload of the key from another: its version, else its sequencer."""
        obj = self.detail.object
        if self.version_id is not None:
            return f"version:{self.version_id}"
        if obj.sequencer:
            return f"sequencer:{obj.sequencer}"
        return f"etag:{obj.etag or ''}"


@dataclass(frozen=True)
class TriggerOutcome:
    """What one matching trigger did for one event.

    ``started``: ``StartExecution`` succeeded (for a redelivery while the run is still going,
    Step Functions answers with the existing execution, and ``inputs_existed`` is true);
    ``duplicate``: ``ExecutionAlreadyExists`` (a redelivery after the run); ``missing``: the
    object version is gone, nothing to run. ``inputs_existed``: an earlier delivery wrote
    the run's inputs.
    """

    workflow: str
    run_id: str
    status: Literal["started", "duplicate", "missing"]
    inputs_existed: bool = False
    execution_arn: str | None = None


def key_matches(key: str, prefix: str, suffix: str) -> bool:
    """Whether ``key`` matches a trigger, as the rule's EventBridge pattern does (``prefix*suffix``:
    prefix and suffix may not overlap), and is not one of stratoflow's own objects."""
    if key.startswith(protocol.RESERVED_PREFIXES):
        return False
    return len(key) >= len(prefix) + len(suffix) and key.startswith(prefix) and key.endswith(suffix)


def execution_name(workflow: str, bucket: str, key: str, identity: str, input_name: str) -> str:
    """``<workflow[:40]>-<32 hex>``: at most 73 characters, all valid in an execution name, and the
    same for every delivery of one object version to one trigger input."""
    digest = hashlib.sha256(json.dumps([bucket, key, identity, input_name]).encode()).hexdigest()
    return f"{_NAME_UNSAFE.sub('-', workflow)[:40]}-{digest[:32]}"


_SPECS: dict[tuple[str, str], ir.WorkflowSpec] = {}
_SPECS_LOCK = threading.Lock()


def load_spec(s3: S3Client, bucket: str, key: str) -> ir.WorkflowSpec:
    # Spec keys are content addressed, so a copy read once is good for the process.
    with _SPECS_LOCK:
        spec = _SPECS.get((bucket, key))
    if spec is None:
        spec = ir.WorkflowSpec.model_validate_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        with _SPECS_LOCK:
            _SPECS[(bucket, key)] = spec
    return spec


def _resolve_key(s3: S3Client, event: S3ObjectEvent) -> str | None:
    """The object's real key: as received, else URL-decoded; ``None`` when neither exists."""
    version = event.version_id
    if object_exists(s3, event.bucket, event.key, version):
        return event.key
    decoded = unquote_plus(event.key)
    if decoded != event.key and object_exists(s3, event.bucket, decoded, version):
        return decoded
    return None


def _pin_object(s3: S3Client, event: S3ObjectEvent, key: str, bucket: str, run: tuple[str, str]) -> str:
    """Copy the event's version of the object under ``protocol.trigger_prefix`` and return its URI.

    A ``File`` given by URI is read where it is when a task runs, so a later upload to the
    same key would be read instead, under the hash taken now (and cached under it). The
    copy never changes, is named like the original, and expires with the run's other
    objects. The copy is server-side (multipart above 8 MB); repeating it is harmless.
    """
    source: dict[str, str] = {"Bucket": event.bucket, "Key": key}
    if event.version_id is not None:
        source["VersionId"] = event.version_id
    name = key.rsplit("/", 1)[-1] or "object"
    destination = f"{protocol.trigger_prefix(*run)}{name}"
    s3.copy(source, bucket, destination, ExtraArgs={"ChecksumAlgorithm": "SHA256"})  # type: ignore[arg-type]
    return f"s3://{bucket}/{destination}"


def _run_id(event: S3ObjectEvent, target: TriggerTarget) -> str:
    return execution_name(target.workflow, event.bucket, event.key, event.identity, target.input)


def _start_one(
    event: S3ObjectEvent,
    key: str,
    target: TriggerTarget,
    *,
    settings: TriggerSettings,
    s3: S3Client,
    sfn: SFNClient,
) -> TriggerOutcome:
    run_id = _run_id(event, target)
    # A redelivery finds the inputs of its run written: neither copy nor rewrite them.
    started = start_run(
        s3=s3,
        sfn=sfn,
        bucket=settings.bucket,
        state_machine_arn=target.state_machine_arn,
        workflow=target.workflow,
        run_id=run_id,
        spec=lambda: load_spec(s3, settings.bucket, target.spec_key),
        inputs=lambda: {
            target.input: _pin_object(s3, event, key, settings.bucket, (target.workflow, run_id))
        },
        once=True,
    )
    if started.execution_arn is None:
        return TriggerOutcome(target.workflow, run_id, "duplicate", inputs_existed=started.inputs_existed)
    return TriggerOutcome(
        target.workflow,
        run_id,
        "started",
        inputs_existed=started.inputs_existed,
        execution_arn=started.execution_arn,
    )


def start_triggered_runs(
    event: S3ObjectEvent, settings: TriggerSettings, *, s3: S3Client, sfn: SFNClient
) -> list[TriggerOutcome]:
    """Start one execution per trigger the event's object matches (none for other buckets and
    for stratoflow's own objects). A duplicate event starts nothing and raises nothing.

    Example:
        >>> start_triggered_runs(S3ObjectEvent.model_validate(event), settings, s3=s3, sfn=sfn)  # doctest: +SKIP
        [TriggerOutcome(workflow='sales_report', run_id='sales_report-3f0c...', status='started', ...)]
    """
    if event.source != "aws.s3" or event.detail_type != "Object Created" or event.bucket != settings.bucket:
        return []
    candidates = [t for t in settings.targets if key_matches(event.key, t.prefix, t.suffix)]
    if not candidates:
        return []
    key = _resolve_key(s3, event)
    if key is None:  # that version was deleted before this delivery: nothing to run
        return [TriggerOutcome(t.workflow, _run_id(event, t), "missing") for t in candidates]
    if key != event.key:
        # The decoded key is the object that would be read: it must match too, and may not be
        # one of stratoflow's own (``runs%2F...`` decodes to ``runs/...``).
        candidates = [t for t in candidates if key_matches(key, t.prefix, t.suffix)]
    return [_start_one(event, key, target, settings=settings, s3=s3, sfn=sfn) for target in candidates]


def targets_json(targets: Sequence[TriggerTarget]) -> str:
    """The starter's ``protocol.ENV_TRIGGERS`` for a list of targets (compact: Lambda environments are small)."""
    return json.dumps([t.model_dump() for t in targets], separators=(",", ":"))
