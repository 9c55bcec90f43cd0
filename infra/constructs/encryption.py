"""``StackKey``: the opt-in customer-managed KMS key (context ``stratoflow:kms``) and the aspect that
encrypts every log group and Lambda environment of the stack with it.

The key policy mirrors the AWS-managed keys' (``aws/s3``, ``aws/dynamodb``, ``aws/sqs``,
``aws/lambda``): any principal of this account may use the key, but only through those services
(``kms:ViaService``, ``kms:CallerAccount``). The bucket, table and queue policies and the roles'
IAM grants stay the only gate to the data, so no role needs a KMS statement of its own, while
the customer owns the key: rotation, disabling it, and CloudTrail records of its use. CloudWatch
Logs gets its own statement, limited to this stack's region and account log groups.
"""

from __future__ import annotations

import jsii
from aws_cdk import Aws, IAspect, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

__all__ = ["EncryptWithStackKey", "StackKey"]

_DATA_SERVICES = ("s3", "dynamodb", "sqs", "lambda")
_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"]


class StackKey(Construct):
    """A rotated KMS key for the bucket, table, logs and DLQ of one stack (retained on delete: data
    encrypted under it outlives the stack in the retained bucket).

    Attributes:
        key: The KMS key.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="stratoflow: data bucket, cache table, log groups, Lambda environments, trigger DLQ",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="UseThroughDataServices",
                principals=[iam.AnyPrincipal()],
                actions=_USE,
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:CallerAccount": Aws.ACCOUNT_ID,
                        "kms:ViaService": [
                            f"{service}.{Aws.REGION}.amazonaws.com" for service in _DATA_SERVICES
                        ],
                    }
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=_USE,
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )


@jsii.implements(IAspect)
class EncryptWithStackKey:
    """Encrypt every log group, and every Lambda environment, it visits with ``key`` (the constructs
    that create them, CDK's own included, stay unaware of the key)."""

    def __init__(self, key: kms.IKey) -> None:
        self._key = key

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            node.kms_key_id = self._key.key_arn
        elif (
            isinstance(node, lambda_.CfnFunction)
            and node.environment is not None
            and node.kms_key_arn is None
        ):
            node.kms_key_arn = self._key.key_arn
