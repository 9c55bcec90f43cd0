"""boto3 adapters: S3 blob and output stores, the DynamoDB cache store. Clients are injected."""

from stratoflow.aws._dynamodb import DynamoCacheStore
from stratoflow.aws._run_storage import S3RunStorage
from stratoflow.aws._s3 import S3BlobStore, S3OutputStore, error_code, object_exists, parse_s3_uri
from stratoflow.aws._secrets import SecretsManagerStore

__all__ = [
    "DynamoCacheStore",
    "S3BlobStore",
    "S3OutputStore",
    "S3RunStorage",
    "SecretsManagerStore",
    "error_code",
    "object_exists",
    "parse_s3_uri",
]
