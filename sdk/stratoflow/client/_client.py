"""The client: submit executions to deployed (or emulated) state machines, read typed results.

Inputs are validated against the workflow's interface and stored before the execution
starts (``start_run``), so a rejected submit never leaves a started execution behind.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stratoflow import ir, runtime, values
from stratoflow.aws import S3BlobStore, S3OutputStore
from stratoflow.client._failures import FailedExecution, failure
from stratoflow.client._records import RecordsSeen, RemoteRun, remote_node_records
from stratoflow.client._signals import send_remote_signal
from stratoflow.client._start import start_run
from stratoflow.define import LaunchPlan, WorkflowDef
from stratoflow.errors import ConfigError, ExecutionError, InputError
from stratoflow.lower import lower
from stratoflow.runtime import NodeContext, untaken_nodes, workflow_outputs

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["Client", "Execution"]

_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
DEFAULT_STACK_NAME = "Stratoflow"  # infra/constructs/defaults.py STACK_NAME


@dataclass
class Execution:
    """One submitted execution."""

    client: Client
    spec: ir.WorkflowSpec
    run_id: str
    arn: str

    def status(self) -> str:
        return self.client.sfn.describe_execution(executionArn=self.arn)["status"]

    def wait(
        self,
        timeout: float | None = None,
        poll_seconds: float = 0.05,
        on_status: Callable[[str], None] | None = None,
    ) -> Execution:
        """Block until the execution ends; raise ExecutionError/TaskFailedError if it did not succeed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last = ""
        while True:
            described = self.client.sfn.describe_execution(executionArn=self.arn)
            status = described["status"]
            if status != last and on_status is not None:
                on_status(status)
            last = status
            if status in _TERMINAL:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise ExecutionError(f"execution {self.run_id} still {status} after {timeout}s")
            time.sleep(poll_seconds)
        if status != "SUCCEEDED":
            failed = FailedExecution(
                run_id=self.run_id,
                arn=self.arn,
                spec=self.spec,
                s3=self.client.s3,
                sfn=self.client.sfn,
                bucket=self.client.bucket,
            )
            raise failure(failed, status, described.get("error"), described.get("cause"))
        return self

    def outputs(self) -> dict[str, Any]:
        """The workflow outputs as Python values (read from S3 by the output bindings)."""
        blobs = S3BlobStore(self.client.s3, self.client.bucket)
        ctx = NodeContext(
            run_id=self.run_id,
            spec=self.spec,
            blobs=blobs,
            outputs=S3OutputStore(self.client.s3, self.client.bucket, self.spec.name, self.run_id),
        )
        literals = workflow_outputs(ctx)
        return {v.name: values.decode(literals[v.name], v.type, blobs) for v in self.spec.outputs}

    def node_records(self, *, seen: RecordsSeen | None = None) -> list[ir.NodeRecord]:
        """This execution's per-node records (``Client.node_records``).

        ``seen``: what a poller of the same run read so far (``RecordsWatcher.seen``); objects it
        read that have not changed since are not read again.
        """
        client = self.client
        run = RemoteRun(
            run_id=self.run_id,
            arn=self.arn,
            spec=self.spec,
            s3=client.s3,
            sfn=client.sfn,
            bucket=client.bucket,
        )
        return remote_node_records(run, seen=seen)

    def skipped(self) -> list[str]:
        """Nodes in the cases its conditionals did not take (of a finished execution), sorted."""
        store = S3OutputStore(self.client.s3, self.client.bucket, self.spec.name, self.run_id)
        done = store.completed_nodes()
        return untaken_nodes(self.spec, done)


class Client:
    """Runs workflows on a stratoflow stack: one bucket, and a state machine per workflow.

    Example:
        >>> client = Client(s3=s3, sfn=sfn, bucket="data", state_machines={"pipeline": arn})  # doctest: +SKIP
        >>> client.run(pipeline, parts=10).wait().outputs()  # doctest: +SKIP
    """

    def __init__(
        self, *, s3: S3Client, sfn: SFNClient, bucket: str, state_machines: Mapping[str, str]
    ) -> None:
        self.s3 = s3
        self.sfn = sfn
        self.bucket = bucket
        self.state_machines = dict(state_machines)

    @classmethod
    def from_stack(
        cls, stack_name: str = DEFAULT_STACK_NAME, *, session: Any = None, stage: str | None = None
    ) -> Client:
        """A client for a deployed stratoflow stack, found through its CloudFormation outputs.

        Reads ``BucketName`` and ``StateMachines`` (a JSON map of workflow name to ARN).
        ``session`` is a ``boto3.Session`` (default: a new one from the environment). ``stage``:
        the stack ``cdk deploy -c stratoflow:stage=STAGE`` deployed (``<stack_name>-<stage>``).

        Example:
            >>> Client.from_stack("Stratoflow", stage="prod").run(pipeline, parts=10).wait()  # doctest: +SKIP
        """
        if stage is not None:
            problem = ir.protocol.stage_problem(stage)
            if problem is not None:
                raise ConfigError(problem)
            stack_name = ir.protocol.stage_stack_name(stack_name, stage)
        if session is None:
            import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 - only for remote runs

            session = boto3.Session()
        cloudformation = session.client("cloudformation")
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except cloudformation.exceptions.ClientError as exc:
            raise ConfigError(f"cannot read stack {stack_name!r}: {exc}") from exc
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        missing = [name for name in ("BucketName", "StateMachines") if name not in outputs]
        if missing:
            raise ConfigError(
                f"stack {stack_name!r} is not a stratoflow stack (no output {', '.join(missing)})"
            )
        return cls(
            s3=session.client("s3"),
            sfn=session.client("stepfunctions"),
            bucket=outputs["BucketName"],
            state_machines=json.loads(outputs["StateMachines"]),
        )

    def submit(
        self,
        spec: ir.WorkflowSpec,
        inputs: Mapping[str, Any],
        *,
        run_id: str | None = None,
        cache: bool = True,
        overwrite_cache: bool = False,
    ) -> Execution:
        """Validate and store inputs, then start the execution.

        ``cache=False`` is ``run --remote --no-cache``: no task of this execution (nor of its
        ``@dynamic`` sub-runs) reads the cache or writes it, as a local run with ``use_cache=False``.
        ``overwrite_cache=True`` is ``run --remote --overwrite-cache`` (Flyte's): cached tasks run
        again and their results replace the entries. The two do not go together (InputError).
        """
        if overwrite_cache and not cache:
            raise InputError(
                "overwrite_cache=True and cache=False do not go together: a run without a cache writes none"
            )
        options = ir.protocol.ExecutionOptions(cache=cache, overwrite_cache=overwrite_cache)
        arn = self.state_machines.get(spec.name)
        if arn is None:
            raise ConfigError(
                f"workflow '{spec.name}' is not deployed (deployed: {', '.join(self.state_machines)})"
            )
        started = start_run(
            s3=self.s3,
            sfn=self.sfn,
            bucket=self.bucket,
            state_machine_arn=arn,
            workflow=spec.name,
            run_id=f"{spec.name[:40]}-{uuid.uuid4().hex[:12]}" if run_id is None else run_id,
            spec=spec,
            inputs=inputs,
            options=None if options.is_default else options,
        )
        assert started.execution_arn is not None  # noqa: S101 - only a start with once=True finds one
        return Execution(client=self, spec=spec, run_id=started.run_id, arn=started.execution_arn)

    def run(self, wf: WorkflowDef[Any, Any] | LaunchPlan, /, **inputs: Any) -> Execution:
        """Submit an execution of ``wf`` with keyword inputs.

        A ``LaunchPlan`` runs its workflow with its inputs merged in (``LaunchPlan.merged_inputs``: a
        fixed input cannot be overridden), named ``<plan>-<12 hex>`` so the plan's notifications
        hear of it as of its scheduled runs.
        """
        if isinstance(wf, LaunchPlan):
            run_id = f"{ir.protocol.plan_run_prefix(wf.name)}{uuid.uuid4().hex[:12]}"
            return self.submit(lower(wf.workflow), wf.merged_inputs(inputs), run_id=run_id)
        return self.submit(lower(wf), inputs)

    def execution(self, run_id: str) -> Execution:
        """The execution named ``run_id`` in any of the stack's state machines, with the spec its
        machine was compiled from (named in the definition's ``Comment``)."""
        for machine_arn in self.state_machines.values():
            arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
            try:
                self.sfn.describe_execution(executionArn=arn)
            except self.sfn.exceptions.ExecutionDoesNotExist:
                continue
            definition = self.sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
            spec_key = ir.protocol.spec_key_in_comment(json.loads(definition).get("Comment", ""))
            if spec_key is None:
                raise ConfigError(f"state machine {machine_arn} names no spec in its Comment")
            body = self.s3.get_object(Bucket=self.bucket, Key=spec_key)["Body"].read()
            spec = ir.WorkflowSpec.model_validate_json(body)
            return Execution(client=self, spec=spec, run_id=run_id, arn=arn)
        raise ConfigError(f"no execution named {run_id!r} in the stack's state machines")

    def node_records(self, run_id: str) -> list[ir.NodeRecord]:
        """Run ``run_id``'s per-node (and per map item) records, as ``executions show`` prints them:
        what the runner wrote beside the node outputs, completed from the execution history.

        Example:
            >>> [(r.node, r.status) for r in client.node_records(execution.run_id)]  # doctest: +SKIP
            [('load', <NodeStatus.SUCCEEDED: 'succeeded'>), ...]
        """
        return self.execution(run_id).node_records()

    def recover(self, run: Execution | str, /) -> Execution:
        """Flyte's ``recover``: a new execution of the failed ``run`` (an Execution or its run id) with its
        inputs, reusing every node and map item that succeeded in it (cached or not) and running the rest
        with the deployed code. Named ``<run>-r<hex>``.

        Example:
            >>> client.recover(failed.run_id).wait().outputs()  # doctest: +SKIP
        """
        from stratoflow.client._recover import find_failed_run, recovery_of, start_recovery  # noqa: PLC0415

        run_id = run.run_id if isinstance(run, Execution) else run
        failed = find_failed_run(
            s3=self.s3, sfn=self.sfn, bucket=self.bucket, state_machines=self.state_machines, run_id=run_id
        )
        recovery = recovery_of(self.s3, self.bucket, failed)
        new_id = runtime.recovered_run_id(run_id)
        arn = start_recovery(
            s3=self.s3, sfn=self.sfn, bucket=self.bucket, failed=failed, recovery=recovery, run_id=new_id
        )
        return Execution(client=self, spec=failed.spec, run_id=new_id, arn=arn)

    def signal(self, run_id: str, name: str, value: object) -> None:
        """Send ``value`` to the gate of ``run_id`` waiting in ``wait_for_input(name, ...)``.

        Example:
            >>> client.signal(execution.run_id, "count", 3)  # doctest: +SKIP
        """
        send_remote_signal(
            s3=self.s3, sfn=self.sfn, bucket=self.bucket, run_id=run_id, name=name, value=value
        )

    def approve(self, run_id: str, name: str, *, reject: bool = False) -> None:
        """Approve (or reject) the gate of ``run_id`` waiting in ``approve(..., name, ...)``.

        Example:
            >>> client.approve(execution.run_id, "deploy")  # doctest: +SKIP
        """
        send_remote_signal(
            s3=self.s3,
            sfn=self.sfn,
            bucket=self.bucket,
            run_id=run_id,
            name=name,
            value=None,
            approved=not reject,
        )
