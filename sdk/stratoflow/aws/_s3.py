"""S3 adapters: the blob store and the per-run output store (clients are injected)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow.values import LiteralRef

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3BlobStore", "S3OutputStore", "parse_s3_uri", "run_prefix"]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def run_prefix(run_id: str) -> str:
    """Where one execution keeps its inputs and node outputs."""
    return f"runs/{run_id}/"


def _is_missing(error: Exception) -> bool:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound")


class S3BlobStore:
    """Content-addressed blobs under ``blobs/`` in one (encrypted) bucket."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "blobs/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, digest: str) -> str:
        return f"{self.prefix}{digest[:2]}/{digest}"

    def put_bytes(self, data: bytes, *, digest: str) -> str:
        key = self._key(digest)
        if not self._exists(key):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return f"s3://{self.bucket}/{key}"

    def put_file(self, path: Path, *, digest: str) -> str:
        key = self._key(digest)
        if not self._exists(key):
            self.client.upload_file(str(path), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def get_bytes(self, uri: str) -> bytes:
        bucket, key = parse_s3_uri(uri)
        data: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def _exists(self, key: str, bucket: str | None = None) -> bool:
        try:
            self.client.head_object(Bucket=bucket or self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def exists(self, uri: str) -> bool:
        bucket, key = parse_s3_uri(uri)
        return self._exists(key, bucket)

    def download(self, uri: str, dest: Path) -> None:
        bucket, key = parse_s3_uri(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.client.download_file(bucket, key, str(dest))

    def download_tree(self, uri: str, dest: Path) -> None:
        manifest = json.loads(self.get_bytes(uri))
        for rel, file_uri, _size in manifest["files"]:
            self.download(file_uri, dest / rel)


class S3OutputStore:
    """A run's workflow inputs and node outputs as small JSON objects under ``runs/<run>/``.

    Every object is written whole by one PutObject, so a reader never sees half of one.
    """

    def __init__(self, client: S3Client, bucket: str, run_id: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = run_prefix(run_id)

    def _read(self, key: str) -> dict[str, LiteralRef]:
        body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        return {name: LiteralRef.from_json(value) for name, value in json.loads(body).items()}

    def _write(self, key: str, literals: dict[str, LiteralRef]) -> None:
        body = json.dumps({name: lit.to_json() for name, lit in literals.items()}, sort_keys=True)
        self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=body.encode(), ContentType="application/json"
        )

    def read_inputs(self) -> dict[str, LiteralRef]:
        return self._read("inputs.json")

    def write_inputs(self, inputs: dict[str, LiteralRef]) -> None:
        self._write("inputs.json", inputs)

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]:
        return self._read(f"nodes/{node_id}.json")

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None:
        self._write(f"nodes/{node_id}.json", outputs)
