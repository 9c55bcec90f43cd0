"""Completing a remote run's gates: the signal goes to S3, then its task token is answered.

The runner left the waiting gate's token and node under :func:`protocol.gate_token_key`; the
signal is stored under :func:`protocol.signal_key` before ``SendTaskSuccess`` so the gate's
finishing step always finds it. A rejection answers ``SendTaskFailure`` with the gate's error,
the words a local run fails with.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.aws import S3BlobStore
from stratoflow.errors import InputError
from stratoflow.ir import protocol
from stratoflow.runtime import gate_rejected, signal_body

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["remote_gate", "send_remote_signal", "waiting_gates"]


def _gate_record(s3: S3Client, bucket: str, run_id: str, name: str) -> tuple[bytes, str, str]:
    """The waiting gate's record, the workflow whose run it is, and that run's id: ``run_id``
    itself, or one of its ``@dynamic`` sub-runs (whose ids start ``<run_id>.``), as locally.
    Runs are kept per workflow and a signal names only the run: one listing of the workflows,
    one read each, and a listing of the sub-runs' objects only when the run has no such gate."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=protocol.RUNS_PREFIX, Delimiter="/"
    )
    workflows = [
        common["Prefix"].removeprefix(protocol.RUNS_PREFIX).rstrip("/")
        for page in pages
        for common in page.get("CommonPrefixes", [])
    ]
    for workflow in workflows:
        try:
            key = protocol.gate_token_key(workflow, run_id, name)
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read(), workflow, run_id
        except s3.exceptions.NoSuchKey:
            continue
    found = [
        (workflow, sub)
        for workflow in workflows
        for sub in _sub_runs_waiting(s3, bucket, workflow, run_id, name)
    ]
    if len(found) > 1:
        runs = sorted(sub for _, sub in found)
        raise InputError(
            f"run {run_id} has {len(found)} sub-runs waiting for signal '{name}': {runs}", input_name=name
        )
    if found:
        workflow, sub = found[0]
        key = protocol.gate_token_key(workflow, sub, name)
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read(), workflow, sub
    raise InputError(f"run {run_id} has no gate waiting for signal '{name}'", input_name=name)


def _sub_runs_waiting(s3: S3Client, bucket: str, workflow: str, run_id: str, name: str) -> list[str]:
    """The ``@dynamic`` sub-runs of ``run_id`` (nested ones too) with a gate waiting for ``name``."""
    return [
        run for run, gate in waiting_gates(s3, bucket, workflow, run_id) if gate == name and run != run_id
    ]


def waiting_gates(s3: S3Client, bucket: str, workflow: str, run_id: str) -> list[tuple[str, str]]:
    """``(run, signal name)`` of every gate whose token is kept for run ``run_id`` or one of its
    ``@dynamic`` sub-runs (``<run>.<node>``, nested ``<run>.<node>.<node>``): one listing of the
    run ids, then each one's gates folder, never a run's outputs or records."""
    paginator = s3.get_paginator("list_objects_v2")
    runs = protocol.workflow_runs_prefix(workflow)
    pages = paginator.paginate(Bucket=bucket, Prefix=runs + run_id, Delimiter="/")
    found: list[tuple[str, str]] = []
    for prefix in [common["Prefix"] for page in pages for common in page.get("CommonPrefixes", [])]:
        run = prefix.removeprefix(runs).rstrip("/")
        if run != run_id and not run.startswith(run_id + "."):
            continue  # another run whose id starts with this one's
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "gates/"):
            for entry in page.get("Contents", []):
                name = entry["Key"].removeprefix(prefix + "gates/").removesuffix(".json")
                if entry["Key"] == protocol.gate_token_key(workflow, run, name):
                    found.append((run, name))
    return found


def remote_gate(s3: S3Client, bucket: str, run_id: str, name: str) -> tuple[ir.GateNode, str]:
    """The gate of ``run_id`` (or of a sub-run of it) waiting for signal ``name`` and its task token
    (InputError if none)."""
    gate, token, _, _ = _waiting_gate(s3, bucket, run_id, name)
    return gate, token


def _waiting_gate(s3: S3Client, bucket: str, run_id: str, name: str) -> tuple[ir.GateNode, str, str, str]:
    body, workflow, run = _gate_record(s3, bucket, run_id, name)
    record = protocol.GateRecord.model_validate_json(body)
    if not record.token:
        raise InputError(f"run {run}: gate '{name}' has no task token", input_name=name)
    return ir.GateNode.model_validate_json(record.node), record.token, workflow, run


def send_remote_signal(
    *, s3: S3Client, sfn: SFNClient, bucket: str, run_id: str, name: str, value: object, approved: bool = True
) -> None:
    """Store signal ``name`` of ``run_id`` and let its waiting gate go on (or fail, when rejected)."""
    gate, token, workflow, run = _waiting_gate(s3, bucket, run_id, name)
    if gate.gate == "approve" and not approved:
        error = gate_rejected(gate)
        sfn.send_task_failure(
            taskToken=token, error=protocol.GATE_REJECTED, cause=protocol.FailureCause.of(error).to_json()
        )
        return
    body = signal_body(gate, value, S3BlobStore(s3, bucket), approved=approved)
    s3.put_object(
        Bucket=bucket,
        Key=protocol.signal_key(workflow, run, name),
        Body=body,
        ContentType="application/json",
    )
    sfn.send_task_success(taskToken=token, output=json.dumps({"signal": name}))
