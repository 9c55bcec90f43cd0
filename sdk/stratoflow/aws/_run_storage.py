"""A run's checkpoints and deck pages on AWS (``current_context()``): objects under the run's prefix.

The keys are ``protocol.checkpoint_key``'s, in the data bucket the runner already reads and
writes ``runs/`` in, so a container, a Lambda invocation and an actor worker share them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stratoflow.aws._s3 import error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3RunStorage"]


class S3RunStorage:
    """``define.RunStorage`` over the data bucket."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return body

    def put(self, key: str, data: bytes) -> None:
        # A deck page is opened in a browser from the console; a checkpoint is a tar.
        kind = "text/html; charset=utf-8" if key.endswith(".html") else "application/x-tar"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=kind)

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", ()))
        return found

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
