"""One workflow's data-plane permissions, shared by its runner Lambda, image functions, Fargate/Batch
task role and actor workers: least privilege per workflow.

Written as explicit statements instead of ``bucket.grant_read_write``: those grants add
wildcard actions (``s3:GetObject*``, ``s3:DeleteObject*``, ``s3:Abort*``) and every
object in the bucket. The runner only ever does what ``stratoflow.aws`` does, and a role of
workflow ``w`` may do it only for ``w``:

- get/put objects under ``runs/w/`` (``protocol.workflow_runs_prefix``: its runs' inputs, node
  outputs, map items, checkpoints, gates) and under the blob prefix, which every workflow shares:
  blobs are content addressed and every read checks the bytes against the hash in the key, so
  a changed blob is never served (at worst a reader recomputes);
- get the workflow's own deployed IR, by its exact key (written by the deployment, never by a task),
  and with ``@dynamic`` nodes get/put its sub-workflow IRs under ``dynamic-specs/w/``;
- list the bucket, because HeadObject on a missing key answers 404 (the runner's
  "blob is gone, recompute") only to a caller allowed to list, and 403 otherwise;
- get/put/delete one cache item by key (conditional put; never a scan or a query), and only items
  whose partition key leads with ``w/`` (``dynamodb:LeadingKeys``, ``protocol.cache_item_key``).

So a task of one workflow cannot write (or read) another workflow's runs or cache entries.
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
    "SPECS_PREFIX",
    "grant_runner_data",
    "read_write_prefixes",
    "runner_data_statements",
]

SPECS_PREFIX = protocol.SPECS_PREFIX
DYNAMIC_SPECS_PREFIX = protocol.DYNAMIC_SPECS_PREFIX


def runner_data_statements(
    bucket: s3.IBucket,
    table: dynamodb.ITable,
    spec_keys: Sequence[str],
    *,
    workflow: str,
    dynamic: bool = False,
) -> list[iam.PolicyStatement]:
    """Least-privilege statements for code running ``stratoflow.runtime`` for ``workflow``.

    ``spec_keys``: the workflow's deployed IR keys (``specs/<workflow>/<sha256>.json``, fixed at
    synth), granted one by one: a spec the deployment did not write cannot be read, let alone run.
    ``dynamic``: the workflow has ``@dynamic`` nodes, whose sub-workflow IRs its runner writes
    (``Mode.DYNAMIC_PLAN``) and reads (the interpreter's modes and ``Mode.DYNAMIC_FINISH``).
    """
    outside = [key for key in spec_keys if protocol.spec_workflow(key) != workflow or "*" in key]
    raise_if_problems(
        "runner_data_statements",
        [f"spec key {key!r} is not an exact key under {SPECS_PREFIX}{workflow}/" for key in outside]
        + ([] if spec_keys else ["spec_keys must name at least one deployed spec"]),
    )
    statements = [
        iam.PolicyStatement(
            sid="ReadWriteRunData",
            actions=["s3:GetObject", "s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in read_write_prefixes(workflow)],
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
            conditions={
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [protocol.cache_items_pattern(workflow)]}
            },
        ),
    ]
    if dynamic:
        statements.append(
            iam.PolicyStatement(
                sid="ReadWriteDynamicSpecs",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{protocol.dynamic_specs_prefix(workflow)}*")],
            )
        )
    return statements


def read_write_prefixes(workflow: str) -> tuple[str, str]:
    """The bucket prefixes a role of ``workflow`` reads and writes: the shared blobs, its own runs."""
    return (protocol.BLOBS_PREFIX, protocol.workflow_runs_prefix(workflow))


def grant_runner_data(
    role: iam.IRole,
    bucket: s3.IBucket,
    table: dynamodb.ITable,
    spec_keys: Sequence[str],
    *,
    workflow: str,
    dynamic: bool = False,
) -> None:
    """Add :func:`runner_data_statements` to ``role`` and acknowledge their prefix wildcards."""
    for statement in runner_data_statements(bucket, table, spec_keys, workflow=workflow, dynamic=dynamic):
        role.add_to_principal_policy(statement)
    for prefix in read_write_prefixes(workflow):
        acknowledge(
            role,
            "IAM5",
            f"objects under {prefix} are named at run time (content hashes, run ids); "
            "the grant is limited to that prefix of the stack's own bucket",
            finding=f"Resource::{nag_resource(role, bucket.arn_for_objects(prefix + '*'))}",
        )
    if dynamic:
        objects = bucket.arn_for_objects(f"{protocol.dynamic_specs_prefix(workflow)}*")
        acknowledge(
            role,
            "IAM5",
            f"@dynamic sub-workflow IRs of {workflow} are content addressed at run time; "
            "the grant is limited to that workflow's prefix of the stack's own bucket",
            finding=f"Resource::{nag_resource(role, objects)}",
        )
