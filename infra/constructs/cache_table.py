"""``CacheTable``: the DynamoDB table behind stratoflow's task cache (``stratoflow.aws.DynamoCacheStore``)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

__all__ = ["CacheTable"]

PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "ttl"


class CacheTable(Construct):
    """On-demand table keyed on ``pk`` (the cache key), expiring entries through ``ttl``.

    On-demand billing because cache traffic follows workflow runs: bursts, then nothing.
    The cache can always be recomputed, so the table is destroyed with the stack by
    default; point-in-time recovery is still on, because a lost cache means recomputing
    every cached task at once.

    Attributes:
        table: The DynamoDB table.

    Example:
        >>> cache = CacheTable(stack, "Cache")  # doctest: +SKIP
        >>> cache.table.grant_read_write_data(role)  # doctest: +SKIP
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED
                if encryption_key
                else dynamodb.TableEncryption.AWS_MANAGED
            ),
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
