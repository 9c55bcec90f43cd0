"""Files given as s3:// URIs: used where they are, identified (and cached) by their contents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import load_workflow
from stratoflow.errors import InputError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.http_server import serving

pytestmark = pytest.mark.emulated

CSV = Path(__file__).resolve().parents[2] / "examples" / "data" / "sales.csv"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


@pytest.fixture(scope="module")
def etl_spec():  # type: ignore[no-untyped-def]
    return lower(load_workflow(str(CSV.parents[1] / "etl.py"), "sales_report"))


@pytest.mark.parametrize("checksum", [None, "SHA256"])
def test_an_s3_file_input_gives_the_same_outputs_as_the_local_file(
    sandbox: Sandbox, etl_spec, tmp_path: Path, checksum: str | None
) -> None:
    s3 = sandbox.aws.client("s3")
    key = f"incoming/{checksum or 'plain'}/sales.csv"
    extra = {"ChecksumAlgorithm": checksum} if checksum else {}
    s3.put_object(Bucket=sandbox.bucket, Key=key, Body=CSV.read_bytes(), **extra)
    remote = sandbox.run(etl_spec, {"data": f"s3://{sandbox.bucket}/{key}"}).outputs()
    local = run_local(etl_spec, {"data": str(CSV)}, RunOptions(home=tmp_path, progress=False)).outputs
    assert remote["o0"] == local["o0"]


def test_changed_contents_behind_the_same_s3_key_are_a_cache_miss(sandbox: Sandbox, etl_spec) -> None:
    s3 = sandbox.aws.client("s3")
    uri = f"s3://{sandbox.bucket}/incoming/changing.csv"
    lines = CSV.read_text().splitlines(keepends=True)
    s3.put_object(Bucket=sandbox.bucket, Key="incoming/changing.csv", Body="".join(lines[:101]).encode())
    first = sandbox.run(etl_spec, {"data": uri}).outputs()["o0"]
    s3.put_object(Bucket=sandbox.bucket, Key="incoming/changing.csv", Body="".join(lines[:51]).encode())
    second = sandbox.run(etl_spec, {"data": uri}).outputs()["o0"]
    assert (first.rows_in, second.rows_in) == (100, 50)


def test_a_missing_s3_object_is_rejected_before_any_execution_starts(sandbox: Sandbox, etl_spec) -> None:
    sandbox.deploy(etl_spec)
    assert sandbox.client is not None
    sfn = sandbox.aws.client("stepfunctions")
    arn = sandbox.client.state_machines[etl_spec.name]
    before = len(sfn.list_executions(stateMachineArn=arn)["executions"])
    with pytest.raises(InputError) as info:
        sandbox.client.submit(etl_spec, {"data": f"s3://{sandbox.bucket}/incoming/nope.csv"})
    assert info.value.input_name == "data"
    assert "does not exist" in str(info.value)
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == before


def test_a_local_run_rejects_an_s3_uri_naming_the_input(etl_spec, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        run_local(etl_spec, {"data": "s3://bucket/key.csv"}, RunOptions(home=tmp_path, progress=False))
    assert info.value.input_name == "data"
    assert "remote file" in str(info.value)


def test_an_s3_input_is_pinned_so_overwriting_the_source_cannot_change_a_run(sandbox: Sandbox) -> None:
    from stratoflow import ir, values
    from stratoflow.aws import S3BlobStore

    s3 = sandbox.aws.client("s3")
    s3.put_object(Bucket=sandbox.bucket, Key="incoming/pinned.txt", Body=b"first")
    blobs = S3BlobStore(s3, sandbox.bucket)
    file_type = ir.TypeRef(kind="file")
    literal = values.encode(values.File(f"s3://{sandbox.bucket}/incoming/pinned.txt"), file_type, blobs)
    s3.put_object(Bucket=sandbox.bucket, Key="incoming/pinned.txt", Body=b"second")
    decoded = values.decode(literal, file_type, blobs)
    assert decoded.uri.startswith(f"s3://{sandbox.bucket}/blobs/")
    assert decoded.name == "pinned.txt"
    with decoded.open("rb") as handle:
        assert handle.read() == b"first"


def test_a_url_file_input_gives_the_same_outputs_as_the_local_file(
    sandbox: Sandbox, etl_spec, tmp_path: Path
) -> None:
    # Flyte's FlyteFile("https://..."): downloaded once as the run starts, then stored by contents.
    with serving(CSV.parent) as base:
        remote = sandbox.run(etl_spec, {"data": f"{base}/{CSV.name}"}).outputs()
        from_url = run_local(
            etl_spec, {"data": f"{base}/{CSV.name}"}, RunOptions(home=tmp_path, progress=False)
        ).outputs
    local = run_local(etl_spec, {"data": str(CSV)}, RunOptions(home=tmp_path, progress=False)).outputs
    assert remote["o0"] == from_url["o0"] == local["o0"]
