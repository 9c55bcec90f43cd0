"""The boto3 adapters against emulated S3 and DynamoDB: blob store, output store, cache store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from stratoflow.aws import DynamoCacheStore, S3BlobStore, S3OutputStore
from stratoflow.cache import CacheEntry, CacheEntryError
from stratoflow.testing import EmulatedAws
from stratoflow.values import LiteralRef, sha256_hex

pytestmark = pytest.mark.emulated

BUCKET = "adapters-bucket"
TABLE = "adapters-cache"


@pytest.fixture
def stores(aws: EmulatedAws) -> tuple[S3BlobStore, DynamoCacheStore]:
    aws.create_bucket(BUCKET)
    aws.create_cache_table(TABLE)
    blobs = S3BlobStore(aws.client("s3"), BUCKET)
    return blobs, DynamoCacheStore(aws.client("dynamodb"), TABLE, blobs=blobs, ttl_seconds=3600)


def test_blob_store_is_content_addressed_and_round_trips(
    stores: tuple[S3BlobStore, DynamoCacheStore], tmp_path: Path
) -> None:
    blobs, _ = stores
    data = b"hello blobs"
    uri = blobs.put_bytes(data, digest=sha256_hex(data))
    assert uri == f"s3://{BUCKET}/blobs/{sha256_hex(data)[:2]}/{sha256_hex(data)}"
    assert blobs.get_bytes(uri) == data
    assert blobs.exists(uri)
    assert not blobs.exists(f"s3://{BUCKET}/blobs/00/{'0' * 64}")
    source = tmp_path / "f.bin"
    source.write_bytes(b"file body")
    file_uri = blobs.put_file(source, digest=sha256_hex(b"file body"))
    blobs.download(file_uri, tmp_path / "out" / "copy.bin")
    assert (tmp_path / "out" / "copy.bin").read_bytes() == b"file body"


def test_output_store_round_trips_inputs_and_node_outputs(aws: EmulatedAws) -> None:
    aws.create_bucket(BUCKET)
    store = S3OutputStore(aws.client("s3"), BUCKET, "wf", "run-1")
    literal = LiteralRef(hash="h1", value=[1, 2])
    blob = LiteralRef(hash="h2", uri=f"s3://{BUCKET}/blobs/aa/x", size=10)
    store.write_inputs({"x": literal})
    store.write_outputs("node", {"o0": blob})
    assert store.read_inputs() == {"x": literal}
    assert store.read_outputs("node") == {"o0": blob}
    keys = {o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"runs/wf/run-1/inputs.json", "runs/wf/run-1/nodes/node.json"}


def test_output_store_reads_the_run_inputs_once(aws: EmulatedAws) -> None:
    aws.create_bucket(BUCKET)
    s3 = aws.client("s3")
    S3OutputStore(s3, BUCKET, "wf", "run-1").write_inputs({"x": LiteralRef(hash="h1", value=1)})
    gets: list[str] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        gets.append(params["Key"])

    s3.meta.events.register("provide-client-params.s3.GetObject", count)
    try:
        store = S3OutputStore(s3, BUCKET, "wf", "run-1")  # a node's: one per invocation
        first = store.read_inputs()
        first["x"] = LiteralRef(hash="changed", value=2)  # a caller's copy: the store's stays
        assert store.read_inputs() == {"x": LiteralRef(hash="h1", value=1)}
        assert gets == ["runs/wf/run-1/inputs.json"]
        store.write_inputs({"x": LiteralRef(hash="h3", value=3)})  # a rewrite is read again
        assert store.read_inputs() == {"x": LiteralRef(hash="h3", value=3)}
        assert gets == ["runs/wf/run-1/inputs.json"] * 2
    finally:
        s3.meta.events.unregister("provide-client-params.s3.GetObject", count)


def test_cache_put_is_first_writer_wins(stores: tuple[S3BlobStore, DynamoCacheStore]) -> None:
    _, cache = stores
    first = CacheEntry(task="m:t", version="1", outputs={"o0": LiteralRef(hash="a", value=1)})
    second = CacheEntry(task="m:t", version="1", outputs={"o0": LiteralRef(hash="b", value=2)})
    assert cache.put("key", first) is True
    assert cache.put("key", second) is False
    entry = cache.get("key")
    assert entry is not None
    assert entry.outputs == first.outputs


def test_cache_get_many_reads_present_keys_and_reports_a_bad_item_alone(
    aws: EmulatedAws, stores: tuple[S3BlobStore, DynamoCacheStore]
) -> None:
    _, cache = stores
    good = CacheEntry(task="m:t", version="1", outputs={"o0": LiteralRef(hash="a", value=1)})
    cache.put("good", good)
    aws.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "bad"}, "task": {"S": "m:t"}})
    found = cache.get_many(["good", "bad", "absent"])
    assert set(found) == {"good", "bad"}
    assert isinstance(found["bad"], CacheEntryError)
    assert isinstance(found["good"], CacheEntry)
    assert found["good"].outputs == good.outputs


def test_expired_cache_items_are_misses_before_dynamodb_deletes_them(aws: EmulatedAws) -> None:
    aws.create_bucket(BUCKET)
    aws.create_cache_table(TABLE)
    blobs = S3BlobStore(aws.client("s3"), BUCKET)
    cache = DynamoCacheStore(aws.client("dynamodb"), TABLE, blobs=blobs, ttl_seconds=60)
    old = CacheEntry(task="m:t", version="1", outputs={}, created=time.time() - 120)
    cache.put("old", old)
    item = aws.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "old"}})["Item"]
    assert (
        int(item["ttl"]["N"]) == int(old.created) + 60
    )  # expired, yet still stored: DynamoDB deletes lazily
    assert cache.get("old") is None


def test_large_cache_entries_keep_their_outputs_in_s3(
    stores: tuple[S3BlobStore, DynamoCacheStore], aws: EmulatedAws
) -> None:
    _, cache = stores
    outputs = {f"o{i}": LiteralRef(hash=f"h{i}", value="v" * 10_000) for i in range(10)}
    cache.put("big", CacheEntry(task="m:t", version="1", outputs=outputs))
    item = aws.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "big"}})["Item"]
    assert "outputs_uri" in item
    assert "outputs" not in item
    entry = cache.get("big")
    assert entry is not None
    assert entry.outputs == outputs
