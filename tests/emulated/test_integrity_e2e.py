"""Integrity on emulated AWS: a corrupted S3 blob and malformed DynamoDB cache items are misses
that recompute (and heal), never a served value or a failed run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import integrity_flows as fl

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _items(sandbox: Sandbox) -> list[dict[str, Any]]:
    return sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]


@pytest.mark.parametrize(
    "damage", [lambda b: b.replace(b"4999", b"4998"), lambda b: b[:100]], ids=["changed", "truncated"]
)
def test_corrupted_s3_blob_is_recomputed_and_rewritten(
    sandbox: Sandbox, damage: Callable[[bytes], bytes]
) -> None:
    spec = lower(fl.big_flow)
    n = 5000 + len(fl.CALLS)  # a fresh cache key per case
    assert sandbox.run(spec, {"n": n}).outputs() == {"o0": list(range(n))}
    item = next(i for i in _items(sandbox) if json.loads(i["outputs"]["S"])["o0"].get("size"))
    uri = json.loads(item["outputs"]["S"])["o0"]["uri"]
    bucket, key = uri[5:].split("/", 1)
    s3 = sandbox.aws.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=damage(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    before = fl.CALLS["big_list"]
    assert sandbox.run(spec, {"n": n}).outputs() == {"o0": list(range(n))}
    assert fl.CALLS["big_list"] == before + 1  # recomputed, not served
    healed = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(healed).hexdigest() == key.rsplit("/", 1)[1]
    sandbox.run(spec, {"n": n})
    assert fl.CALLS["big_list"] == before + 1  # and now a hit again
    sandbox.aws.client("dynamodb").delete_item(TableName=sandbox.table, Key={"pk": item["pk"]})


def _forge(item: dict[str, Any]) -> None:
    outputs = json.loads(item["outputs"]["S"])
    outputs["o0"]["v"] = 12345
    item["outputs"] = {"S": json.dumps(outputs)}


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "invalid-json": lambda item: item.update(outputs={"S": "{not json"}),
    "wrong-shape": lambda item: item.pop("task"),
    "forged-value": _forge,
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_dynamodb_item_is_a_miss_that_recomputes_and_is_replaced(
    sandbox: Sandbox, kind: str
) -> None:
    spec = lower(fl.small_flow)
    x = 100 + list(MALFORMED).index(kind)
    assert sandbox.run(spec, {"x": x}).outputs() == {"o0": 3 * x}
    dynamodb = sandbox.aws.client("dynamodb")
    [item] = [i for i in _items(sandbox) if json.loads(i["outputs"]["S"])["o0"].get("v") == 3 * x]
    MALFORMED[kind](item)
    dynamodb.put_item(TableName=sandbox.table, Item=item)
    before = fl.CALLS["small"]
    assert sandbox.run(spec, {"x": x}).outputs() == {"o0": 3 * x}
    assert fl.CALLS["small"] == before + 1
    sandbox.run(spec, {"x": x})
    assert fl.CALLS["small"] == before + 1  # the replaced entry is a hit
