"""S3 adapters: the blob store and the per-run output store (clients are injected)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow.errors import IntegrityError
from stratoflow.ir import protocol
from stratoflow.values import ItemResult, LiteralRef, RemoteFileError, verify_stream

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAP_CHUNK = 1000  # item inputs per S3 object: a batch reads one or two of them

__all__ = ["MAP_CHUNK", "S3BlobStore", "S3OutputStore", "error_code", "object_exists", "parse_s3_uri"]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def error_code(error: Exception) -> str:
    """The S3 error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_missing(error: Exception) -> bool:
    return error_code(error) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


def object_exists(client: S3Client, bucket: str, key: str, version: str | None = None) -> bool:
    """Whether the object (that version of it) exists; a 404 is answered only to callers that may list."""
    try:
        if version is None:
            client.head_object(Bucket=bucket, Key=key)
        else:
            client.head_object(Bucket=bucket, Key=key, VersionId=version)
    except client.exceptions.ClientError as exc:
        if _is_missing(exc):
            return False
        raise
    return True


class S3BlobStore:
    """Content-addressed blobs (``protocol.blob_key``) in one (encrypted) bucket.

    Reads are verified while they stream (``verify_stream``). Writes carry the SHA-256, so S3
    rejects an upload whose bytes are not the blob, and replace a blob that fails verification.
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str = protocol.BLOBS_PREFIX) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, digest: str) -> str:
        return protocol.blob_key(digest, self.prefix)

    def put_bytes(self, data: bytes, *, digest: str) -> str:
        key = self._key(digest)
        uri = f"s3://{self.bucket}/{key}"
        if not self.exists(uri):
            checksum = base64.b64encode(bytes.fromhex(digest)).decode()
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumSHA256=checksum)
        return uri

    def put_file(self, path: Path, *, digest: str) -> str:
        key = self._key(digest)
        uri = f"s3://{self.bucket}/{key}"
        if not self.exists(uri):
            # S3 keeps the SHA-256 it computed, so the next exists() is one HEAD, not a read.
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"})
        return uri

    def _chunks(self, bucket: str, key: str) -> Any:
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        return iter(lambda: body.read(1 << 20), b"")

    def get_bytes(self, uri: str) -> bytes:
        bucket, key = parse_s3_uri(uri)
        return verify_stream(self._chunks(bucket, key), uri)

    def _exists(self, key: str, bucket: str | None = None) -> bool:
        return object_exists(self.client, bucket or self.bucket, key)

    def exists(self, uri: str) -> bool:
        """Whether the blob is there and intact: S3's own full-object SHA-256 when it matches the
        address (one HEAD), else the bytes streamed through hashlib."""
        bucket, key = parse_s3_uri(uri)
        expected = protocol.blob_digest(key)
        try:
            head = self.client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except self.client.exceptions.ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        if expected is None or _full_object_sha256(head) == expected:
            return True
        try:
            verify_stream(self._chunks(bucket, key), uri, sink=lambda _chunk: None)
        except IntegrityError:
            return False
        return True

    def adopt_remote(self, uri: str) -> tuple[str, str, int]:
        """Pin an object given by URI: (blob URI, sha256, size).

        The contents are identified by S3's full-object SHA-256 checksum when the object has
        one, else streamed through hashlib (never the ETag: not a content hash for multipart
        uploads), then copied server-side to the content-addressed blob key. Both the
        read and the copy are conditional on the ETag seen first, so a run always reads
        exactly the bytes its cache key was computed from, even if the source key is
        overwritten before the run reads it.
        """
        bucket, key = parse_s3_uri(uri)
        try:
            head = self.client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except self.client.exceptions.ClientError as exc:
            if _is_missing(exc):
                raise RemoteFileError(f"{uri} does not exist") from exc
            raise
        etag, size = head["ETag"], int(head["ContentLength"])
        digest = _full_object_sha256(head)
        if digest is None:
            hasher = hashlib.sha256()
            body = self.client.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"]
            for chunk in iter(lambda: body.read(1 << 20), b""):
                hasher.update(chunk)
            digest = hasher.hexdigest()
        blob_key = self._key(digest)
        if not self.exists(f"s3://{self.bucket}/{blob_key}"):
            self.client.copy(
                {"Bucket": bucket, "Key": key},
                self.bucket,
                blob_key,
                ExtraArgs={"CopySourceIfMatch": etag},
            )
        return f"s3://{self.bucket}/{blob_key}", digest, size

    def download(self, uri: str, dest: Path) -> None:
        """Stream the blob to ``dest`` (via a temporary file: a bad blob leaves nothing behind)."""
        bucket, key = parse_s3_uri(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        try:
            with open(tmp, "wb") as handle:
                verify_stream(self._chunks(bucket, key), uri, sink=handle.write)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)

    def download_tree(self, uri: str, dest: Path) -> None:
        manifest = json.loads(self.get_bytes(uri))
        for rel, file_uri, _size in manifest["files"]:
            self.download(file_uri, dest / rel)


def _full_object_sha256(head: Any) -> str | None:
    """The hex SHA-256 S3 keeps for a whole object, if it has one (not a multipart composite)."""
    checksum = head.get("ChecksumSHA256")
    if checksum and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT" and "-" not in checksum:
        return base64.b64decode(checksum).hex()
    return None


class S3OutputStore:
    """A run's workflow inputs and node outputs as small JSON objects (``protocol.run_prefix``).

    Every object is written whole by one PutObject, so a reader never sees half of one.
    """

    def __init__(self, client: S3Client, bucket: str, workflow: str, run_id: str) -> None:
        self.client = client
        self.bucket = bucket
        self.workflow = workflow
        self.run_id = run_id
        self.prefix = protocol.run_prefix(workflow, run_id)
        self._inputs: dict[str, LiteralRef] | None = None

    def _read(self, key: str) -> dict[str, LiteralRef]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return {name: LiteralRef.from_json(value) for name, value in json.loads(body).items()}

    def _write(self, key: str, literals: dict[str, LiteralRef], *, once: bool = False) -> bool:
        body = json.dumps({name: lit.to_json() for name, lit in literals.items()}, sort_keys=True)
        if not once:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/json"
            )
            return False
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body.encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except self.client.exceptions.ClientError as exc:
            if error_code(exc) in ("PreconditionFailed", "412"):
                return True
            raise
        return False

    def read_inputs(self) -> dict[str, LiteralRef]:
        """The run's inputs, read once per store: they are written once, before the run starts
        (``write_inputs(once=True)``), so a node with several workflow-input bindings makes one GET."""
        if self._inputs is None:
            self._inputs = self._read(protocol.inputs_key(self.workflow, self.run_id))
        return dict(self._inputs)

    def write_inputs(self, inputs: dict[str, LiteralRef], *, once: bool = False) -> bool:
        """Store the run's inputs. ``once``: only if absent (``If-None-Match: *``); returns whether
        they existed already. A 409 (a concurrent conditional write) is raised, to be retried."""
        self._inputs = None
        return self._write(protocol.inputs_key(self.workflow, self.run_id), inputs, once=once)

    def inputs_exist(self) -> bool:
        return object_exists(self.client, self.bucket, protocol.inputs_key(self.workflow, self.run_id))

    def read_outputs(self, node_id: str) -> dict[str, LiteralRef]:
        return self._read(protocol.node_outputs_key(self.workflow, self.run_id, node_id))

    def write_outputs(self, node_id: str, outputs: dict[str, LiteralRef]) -> None:
        self._write(protocol.node_outputs_key(self.workflow, self.run_id, node_id), outputs)

    def completed_nodes(self) -> set[str]:
        """Ids of the nodes whose outputs are stored (one listing, for a dynamic graph's interpreter)."""
        done: set[str] = set()
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = protocol.node_outputs_prefix(self.workflow, self.run_id)
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                name = entry["Key"].removeprefix(prefix)
                if name.endswith(".json") and "/" not in name:
                    done.add(name.removesuffix(".json"))
        return done

    # --- map nodes: items.json (what ItemReader reads), chunked item inputs, per-batch results

    def _put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def _get_json(self, key: str) -> Any:
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def map_items_key(self, node_id: str) -> str:
        """The key of the item index list a Distributed Map's ItemReader reads."""
        return protocol.map_items_key(self.workflow, self.run_id, node_id)

    def write_map_inputs(self, node_id: str, items: Sequence[dict[str, LiteralRef]]) -> None:
        for start in range(0, len(items), MAP_CHUNK):
            chunk = [{k: v.to_json() for k, v in item.items()} for item in items[start : start + MAP_CHUNK]]
            self._put_json(
                protocol.map_inputs_key(self.workflow, self.run_id, node_id, start // MAP_CHUNK), chunk
            )
        self._put_json(
            protocol.map_meta_key(self.workflow, self.run_id, node_id),
            {"count": len(items), "chunk": MAP_CHUNK},
        )
        # Items are bare indices: a batch of them is a few hundred bytes whatever the data.
        self._put_json(self.map_items_key(node_id), list(range(len(items))))

    def read_map_inputs(self, node_id: str, indices: Sequence[int]) -> dict[int, dict[str, LiteralRef]]:
        chunks: dict[int, list[dict[str, Any]]] = {}
        result: dict[int, dict[str, LiteralRef]] = {}
        for index in indices:
            number = index // MAP_CHUNK
            if number not in chunks:
                chunks[number] = self._get_json(
                    protocol.map_inputs_key(self.workflow, self.run_id, node_id, number)
                )
            raw = chunks[number][index - number * MAP_CHUNK]
            result[index] = {k: LiteralRef.from_json(v) for k, v in raw.items()}
        return result

    def write_map_results(self, node_id: str, results: dict[int, ItemResult]) -> None:
        if not results:
            return
        encoded = {
            str(i): {
                "o": None if r.output is None else r.output.to_json(),
                "error": r.error,
                "error_type": r.error_type,
                "hit": r.cache_hit,
            }
            for i, r in results.items()
        }
        self._put_json(protocol.map_results_key(self.workflow, self.run_id, node_id, min(results)), encoded)

    def read_map_results(self, node_id: str, count: int) -> dict[int, ItemResult]:
        results: dict[int, ItemResult] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = protocol.map_results_prefix(self.workflow, self.run_id, node_id)
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                batch = self._get_json(entry["Key"])
                for index, raw in batch.items():
                    results[int(index)] = _item_result(raw)
        return results

    def read_map_batch(self, node_id: str, indices: Sequence[int]) -> dict[int, ItemResult]:
        """What an earlier run of this batch stored (a batch's object is named after its first index)."""
        if not indices:
            return {}
        try:
            raw = self._get_json(protocol.map_results_key(self.workflow, self.run_id, node_id, min(indices)))
        except self.client.exceptions.ClientError as exc:
            if _is_missing(exc):
                return {}
            raise
        wanted = set(indices)
        return {int(i): _item_result(r) for i, r in raw.items() if int(i) in wanted}

    def map_count(self, node_id: str) -> int:
        return int(self._get_json(protocol.map_meta_key(self.workflow, self.run_id, node_id))["count"])


def _item_result(raw: dict[str, Any]) -> ItemResult:
    return ItemResult(
        output=None if raw["o"] is None else LiteralRef.from_json(raw["o"]),
        error=raw["error"],
        error_type=raw["error_type"],
        cache_hit=raw["hit"],
    )
