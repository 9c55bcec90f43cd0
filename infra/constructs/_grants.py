"""The runner's data-plane permissions, shared by the Lambda role and the Fargate task role.

Written as explicit statements instead of ``bucket.grant_read_write``: those grants add
wildcard actions (``s3:GetObject*``, ``s3:DeleteObject*``, ``s3:Abort*``) and every
object in the bucket. The runner only ever does what ``stratoflow.aws`` does:

- get/put objects under the blob prefix (values, files) and the run prefix (node outputs,
  map items); get the deployed IRs, each by its exact key (written by the deployment, never by a task);
- list the bucket, because HeadObject on a missing key answers 404 (the runner's
  "blob is gone, recompute") only to a caller allowed to list, and 403 otherwise;
- get/put/delete one cache item by key (conditional put; never a scan or a query).

A stack with ``@dynamic`` nodes also lets the runner Lambda (only it: dynamic graphs run
on Lambda) get/put sub-workflow IRs under their own prefix (:func:`grant_dynamic_specs`).
Every prefix is ``stratoflow.ir.protocol``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra.constructs._nag import acknowledge, nag_resource
from infra.constructs._props import raise_if_problems
from stratoflow.ir import protocol

__all__ = [
    "DYNAMIC_SPECS_PREFIX",
    "READ_WRITE_PREFIXES",
    "SPECS_PREFIX",
    "grant_dynamic_specs",
    "grant_runner_data",
    "runner_data_statements",
]

READ_WRITE_PREFIXES = (protocol.BLOBS_PREFIX, protocol.RUNS_PREFIX)
SPECS_PREFIX = protocol.SPECS_PREFIX
DYNAMIC_SPECS_PREFIX = protocol.DYNAMIC_SPECS_PREFIX


def runner_data_statements(
    bucket: s3.IBucket, table: dynamodb.ITable, spec_keys: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Least-privilege statements for code running ``stratoflow.runtime`` against ``bucket`` and ``table``.

    ``spec_keys``: the deployed workflows' IR keys (``specs/<sha256>.json``, fixed at synth), granted
    one by one: a spec the deployment did not write cannot be read, let alone run.
    """
    outside = [key for key in spec_keys if not key.startswith(SPECS_PREFIX) or "*" in key]
    raise_if_problems(
        "runner_data_statements",
        [f"spec key {key!r} is not an exact key under {SPECS_PREFIX!r}" for key in outside]
        + ([] if spec_keys else ["spec_keys must name at least one deployed spec"]),
    )
    objects = [bucket.arn_for_objects(f"{prefix}*") for prefix in READ_WRITE_PREFIXES]
    return [
        iam.PolicyStatement(
            sid="ReadWriteRunData", actions=["s3:GetObject", "s3:PutObject"], resources=objects
        ),
        iam.PolicyStatement(
            sid="ReadDeployedSpecs",
            actions=["s3:GetObject"],
            resources=[bucket.arn_for_objects(key) for key in sorted(set(spec_keys))],
        ),
        iam.PolicyStatement(
            sid="ListForMissingKeys", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
        ),
        iam.PolicyStatement(
            sid="CacheItems",
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
            resources=[table.table_arn],
        ),
    ]


def grant_runner_data(
    role: iam.IRole, bucket: s3.IBucket, table: dynamodb.ITable, spec_keys: Sequence[str]
) -> None:
    """Add :func:`runner_data_statements` to ``role`` and acknowledge their prefix wildcards."""
    for statement in runner_data_statements(bucket, table, spec_keys):
        role.add_to_principal_policy(statement)
    for prefix in READ_WRITE_PREFIXES:
        acknowledge(
            role,
            "IAM5",
            f"objects under {prefix} are named at run time (content hashes, run ids); "
            "the grant is limited to that prefix of the stack's own bucket",
            finding=f"Resource::{nag_resource(role, bucket.arn_for_objects(prefix + '*'))}",
        )


def grant_dynamic_specs(role: iam.IRole, bucket: s3.IBucket) -> None:
    """Let ``role`` write (``Mode.DYNAMIC_PLAN``) and read (the interpreter's modes and ``Mode.DYNAMIC_FINISH``)
    the sub-workflow IRs of ``@dynamic`` nodes, and acknowledge the prefix wildcard."""
    objects = bucket.arn_for_objects(f"{DYNAMIC_SPECS_PREFIX}*")
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ReadWriteDynamicSpecs", actions=["s3:GetObject", "s3:PutObject"], resources=[objects]
        )
    )
    acknowledge(
        role,
        "IAM5",
        f"@dynamic sub-workflow IRs under {DYNAMIC_SPECS_PREFIX} are content addressed at run time; "
        "the grant is limited to that prefix of the stack's own bucket",
        finding=f"Resource::{nag_resource(role, objects)}",
    )
