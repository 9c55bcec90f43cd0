"""The DynamoDB cache store: conditional put (first writer wins), TTL filtered at read time."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stratoflow.cache import CacheEntry, CacheEntryError
from stratoflow.errors import CacheError
from stratoflow.values import BlobStore, sha256_hex

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["DynamoCacheStore"]

# DynamoDB items are at most 400 KB; output references bigger than this go to S3.
_MAX_INLINE_OUTPUTS = 64 * 1024


class DynamoCacheStore:
    """Cache entries in a table keyed on ``pk`` (the cache key), with an epoch ``ttl`` attribute."""

    def __init__(
        self, client: DynamoDBClient, table: str, *, blobs: BlobStore, ttl_seconds: int | None = None
    ) -> None:
        self.client = client
        self.table = table
        self.blobs = blobs
        self.ttl_seconds = ttl_seconds

    def get(self, key: str) -> CacheEntry | None:
        try:
            item = self.client.get_item(
                TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
            ).get("Item")
        except self.client.exceptions.ClientError as exc:
            raise CacheError(f"cannot read cache table {self.table}: {exc}") from exc
        return None if item is None else self._entry(item)

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry | CacheEntryError]:
        """One ``GetItem`` a key: nothing on AWS looks up many keys at once yet (a local cached
        map does, in SQLite); ``BatchGetItem`` is the step when a map prepare state does."""
        found: dict[str, CacheEntry | CacheEntryError] = {}
        for key in keys:
            try:
                entry = self.get(key)
            except CacheEntryError as exc:
                found[key] = exc
            else:
                if entry is not None:
                    found[key] = entry
        return found

    def _entry(self, item: dict[str, Any]) -> CacheEntry | None:
        # DynamoDB deletes expired items lazily (up to days later): treat them as gone now.
        try:
            if "ttl" in item and int(item["ttl"]["N"]) <= int(time.time()):
                return None
            if "outputs_uri" in item:
                outputs_text = self.blobs.get_bytes(item["outputs_uri"]["S"]).decode()
            else:
                outputs_text = item["outputs"]["S"]
            task, version, created = item["task"]["S"], item["version"]["S"], float(item["created"]["N"])
        except CacheEntryError:
            raise
        except Exception as exc:
            raise CacheEntryError(f"unreadable item ({type(exc).__name__}: {exc})") from exc
        return CacheEntry(
            task=task, version=version, outputs=CacheEntry.parse_outputs(outputs_text), created=created
        )

    def put(self, key: str, entry: CacheEntry, *, replace: bool = False) -> bool:
        outputs_text = entry.outputs_json()
        item: dict[str, dict[str, str]] = {
            "pk": {"S": key},
            "task": {"S": entry.task},
            "version": {"S": entry.version},
            "created": {"N": repr(entry.created)},
        }
        if len(outputs_text) > _MAX_INLINE_OUTPUTS:
            data = outputs_text.encode()
            item["outputs_uri"] = {"S": self.blobs.put_bytes(data, digest=sha256_hex(data))}
        else:
            item["outputs"] = {"S": outputs_text}
        if self.ttl_seconds:
            item["ttl"] = {"N": str(int(entry.created) + self.ttl_seconds)}
        try:
            if replace:  # run --overwrite-cache: this result replaces the entry
                self.client.put_item(TableName=self.table, Item=item)
            else:  # the first writer of a key wins
                self.client.put_item(
                    TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except self.client.exceptions.ClientError as exc:
            raise CacheError(f"cannot write cache table {self.table}: {exc}") from exc
        return True

    def delete(self, key: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": key}})
