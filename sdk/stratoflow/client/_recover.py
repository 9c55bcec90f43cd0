"""``Client.recover``: a new execution of a failed one that reuses every node and map item that succeeded.

Step Functions' own redrive (``RedriveExecution``) restarts a failed Standard execution from its
failed states, in place, within 14 days. stratoflow does not use it: a redriven execution keeps its
name (the run id the runner stores outputs under), cannot run a fixed definition (redrive reruns the
same one, and a fix usually needs a deploy), does not reach into the child executions of a
Distributed Map's failed items or a ``@dynamic`` node's sub-execution the way a per-item reuse does,
and moto 5.2.5 has no ``RedriveExecution``, so the emulated tests could not check it. Instead the
client reads the failed run's stored node outputs and map item results, writes them as the new run's
:class:`~stratoflow.runtime.Recovery` (``protocol.recovery_key``), copies its inputs, and starts a new
execution of the deployed state machine; the runner reuses what the record lists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stratoflow import ir
from stratoflow.aws import S3OutputStore, object_exists
from stratoflow.errors import ConfigError
from stratoflow.ir import protocol
from stratoflow.runtime import Recovery
from stratoflow.values import ItemResult, LiteralRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ["FailedRun", "find_failed_run", "recovery_of", "start_recovery"]

_RECOVERABLE = ("FAILED", "TIMED_OUT", "ABORTED")


class FailedRun:
    """A failed execution: its run id, workflow, state machine and the IR it was compiled from."""

    def __init__(self, run_id: str, machine_arn: str, spec: ir.WorkflowSpec) -> None:
        self.run_id = run_id
        self.machine_arn = machine_arn
        self.spec = spec


def find_failed_run(
    *, s3: S3Client, sfn: SFNClient, bucket: str, state_machines: dict[str, str], run_id: str
) -> FailedRun:
    """The deployed workflow whose execution ``run_id`` failed; a ConfigError when there is none."""
    for machine_arn in state_machines.values():
        arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{run_id}"
        try:
            described = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
        if described["status"] not in _RECOVERABLE:
            raise ConfigError(f"run {run_id} is {described['status']}: only a failed run can be recovered")
        # The deployed definition names the IR it was compiled from (its Comment).
        definition = sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
        spec_key = protocol.spec_key_in_comment(json.loads(definition).get("Comment", ""))
        if spec_key is None:
            raise ConfigError(f"state machine {machine_arn} names no stratoflow IR: cannot recover {run_id}")
        body = s3.get_object(Bucket=bucket, Key=spec_key)["Body"].read()
        return FailedRun(run_id, machine_arn, ir.WorkflowSpec.model_validate_json(body))
    raise ConfigError(
        f"no execution named {run_id!r} in the deployed workflows ({', '.join(state_machines)})"
    )


def recovery_of(s3: S3Client, bucket: str, failed: FailedRun) -> Recovery:
    """Every node output and succeeded map item the failed run stored."""
    store = S3OutputStore(s3, bucket, failed.spec.name, failed.run_id)
    nodes: dict[str, dict[str, LiteralRef]] = {
        n: store.read_outputs(n) for n in sorted(store.completed_nodes())
    }
    maps: dict[str, dict[int, ItemResult]] = {}
    for node in failed.spec.all_nodes():
        prepared = isinstance(node, ir.MapNode) and node.id not in nodes
        if prepared and object_exists(
            s3, bucket, protocol.map_meta_key(failed.spec.name, failed.run_id, node.id)
        ):
            maps[node.id] = store.read_map_results(node.id, store.map_count(node.id))
    return Recovery.of(failed.run_id, nodes, maps)


def start_recovery(
    *, s3: S3Client, sfn: SFNClient, bucket: str, failed: FailedRun, recovery: Recovery, run_id: str
) -> str:
    """Write the new run's recovery record and inputs (the failed run's), then start it; its ARN."""
    problem = protocol.run_id_problem(run_id)
    if problem is not None:
        raise ConfigError(problem)
    s3.put_object(
        Bucket=bucket,
        Key=protocol.recovery_key(failed.spec.name, run_id),
        Body=recovery.to_json(),
        ContentType="application/json",
    )
    inputs = S3OutputStore(s3, bucket, failed.spec.name, failed.run_id).read_inputs()
    S3OutputStore(s3, bucket, failed.spec.name, run_id).write_inputs(inputs, once=True)
    started = sfn.start_execution(stateMachineArn=failed.machine_arn, name=run_id, input="{}")
    return started["executionArn"]
