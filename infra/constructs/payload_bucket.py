"""``PayloadBucket``: the one S3 bucket holding workflow data, IR specs, map items and node outputs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs import defaults
from infra.constructs._nag import acknowledge
from infra.constructs._props import raise_if_problems
from stratoflow.ir import protocol

__all__ = ["PayloadBucket"]

_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
"""CDK's singleton function (one per stack) that writes a bucket's notification configuration."""


class PayloadBucket(Construct):
    """Encrypted, private, versioned data bucket with server access logs and a ``runs/`` lifecycle.

    SSE-S3 by default rather than KMS (``encryption_key`` opts in): every reader (runner,
    containers, Step Functions' ItemReader) then needs only S3 permissions, and there is no
    per-request KMS charge on the millions of small objects a large map writes. Versioning protects data against an
    overwrite; old versions and per-run intermediates expire, so it costs little. The access-log
    bucket stays SSE-S3 whatever the key: S3 server access logging delivers only to SSE-S3 buckets.

    Attributes:
        bucket: The data bucket.
        access_logs: The bucket receiving the data bucket's server access logs.

    Example:
        >>> payload = PayloadBucket(stack, "Payload", runs_expire_days=14)  # doctest: +SKIP
        >>> payload.bucket.bucket_name  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runs_expire_days: int = defaults.RUNS_EXPIRE_DAYS,
        noncurrent_versions_expire_days: int = defaults.NONCURRENT_VERSIONS_EXPIRE_DAYS,
        access_logs_expire_days: int = defaults.ACCESS_LOGS_EXPIRE_DAYS,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        event_bridge_enabled: bool = False,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        problems = [
            f"{name} must be at least 1 day, got {value}"
            for name, value in (
                ("runs_expire_days", runs_expire_days),
                ("noncurrent_versions_expire_days", noncurrent_versions_expire_days),
                ("access_logs_expire_days", access_logs_expire_days),
            )
            if value < 1
        ]
        raise_if_problems("PayloadBucket", problems)
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # Ownership left to CDK: with @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy (cdk.json)
            # log delivery is granted by bucket policy; in apps without the flag, by the ACL it needs.
            # Versioned, so a log object overwritten or deleted before it expires can still be read
            # (the logs are the record of who touched the data); old versions go a day later.
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-logs", expiration=Duration.days(access_logs_expire_days)),
                s3.LifecycleRule(
                    id="expire-old-log-versions",
                    noncurrent_version_expiration=Duration.days(1),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal_policy,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            # Opt-in customer-managed key (context stratoflow:kms); the S3 bucket key keeps the
            # KMS requests (and their charge) to a few per object prefix rather than one per object.
            encryption=s3.BucketEncryption.KMS if encryption_key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=True if encryption_key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data/",
            # S3 triggers: every object event goes to the default bus, where rules pick theirs.
            event_bridge_enabled=event_bridge_enabled,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-runs",
                    prefix=protocol.RUNS_PREFIX,
                    expiration=Duration.days(runs_expire_days),
                ),
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=Duration.days(noncurrent_versions_expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                    expired_object_delete_marker=True,
                ),
            ],
            removal_policy=removal_policy,
        )
        handler = Stack.of(self).node.try_find_child(_NOTIFICATIONS_HANDLER) if event_bridge_enabled else None
        if handler is not None:
            acknowledge(
                handler,
                "IAM4",
                "CDK's bucket-notifications handler uses AWSLambdaBasicExecutionRole (create its log group "
                "and write its logs); its S3 right is s3:PutBucketNotification, written by CDK",
                finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            )
