"""Starting an execution: store its inputs, then start it. The one way every run begins.

``Client.submit`` and the S3 trigger starter both come here, so a run started either way
finds its inputs where the runner reads them, in the same format, before its first state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow.aws import S3BlobStore, S3OutputStore
from stratoflow.errors import InputError
from stratoflow.ir import protocol
from stratoflow.runtime import encode_inputs, validate_inputs

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["RunStart", "start_run"]


@dataclass(frozen=True)
class RunStart:
    """What :func:`start_run` did: ``execution_arn`` is ``None`` when the execution already existed
    (only with ``once``); ``inputs_existed``: an earlier start wrote the run's inputs."""

    run_id: str
    execution_arn: str | None
    inputs_existed: bool = False


def start_run(
    *,
    s3: S3Client,
    sfn: SFNClient,
    bucket: str,
    state_machine_arn: str,
    workflow: str,
    run_id: str,
    spec: Callable[[], ir.WorkflowSpec] | ir.WorkflowSpec,
    inputs: Callable[[], Mapping[str, Any]] | Mapping[str, Any],
    once: bool = False,
    options: protocol.ExecutionOptions | None = None,
) -> RunStart:
    """Validate and store a run's inputs, then start its execution (named ``run_id``).

    ``once`` makes a repeated start harmless (an at-least-once event source): inputs that
    exist are neither computed (``spec`` and ``inputs`` may be callables, so nothing is read
    or copied) nor rewritten, and an execution that exists already is not an error.
    Without it, a taken ``run_id`` is an :class:`InputError` and the existing run's inputs are
    left as they were (the write is conditional, ``If-None-Match: *``). A ``run_id`` that is not
    a valid execution name is an :class:`InputError` before anything is written. The run's
    objects go under ``workflow``'s prefix (``protocol.run_prefix``). ``options`` other than the
    defaults are stored beside the inputs, after they validated and before the start, where the
    runner reads them (``protocol.run_options_key``).
    """
    problem = protocol.run_id_problem(run_id)
    if problem is not None:
        raise InputError(problem, input_name="run_id")
    store = S3OutputStore(s3, bucket, workflow, run_id)
    existed = once and store.inputs_exist()
    if not existed:
        loaded = spec() if callable(spec) else spec
        coerced = validate_inputs(loaded, inputs() if callable(inputs) else inputs)
        literals = encode_inputs(loaded, coerced, S3BlobStore(s3, bucket))
        existed = store.write_inputs(literals, once=True)
        if existed and not once:
            raise InputError(f"run_id {run_id!r} is taken: a run with that id exists", input_name="run_id")
    if options is not None and not options.is_default:
        s3.put_object(
            Bucket=bucket,
            Key=protocol.run_options_key(workflow, run_id),
            Body=options.model_dump_json().encode(),
            ContentType="application/json",
        )
    try:
        started = sfn.start_execution(stateMachineArn=state_machine_arn, name=run_id, input="{}")
    except sfn.exceptions.ExecutionAlreadyExists:
        if not once:
            raise
        return RunStart(run_id, None, inputs_existed=existed)
    return RunStart(run_id, started["executionArn"], inputs_existed=existed)
