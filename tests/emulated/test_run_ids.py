"""Client.submit(run_id=...): execution-name rules, and a taken run id never overwrites that run's inputs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stratoflow.errors import InputError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _runs(sandbox: Sandbox) -> dict[str, bytes]:
    s3 = sandbox.aws.client("s3")
    listed = s3.list_objects_v2(Bucket=sandbox.bucket, Prefix="runs/").get("Contents", [])
    return {e["Key"]: s3.get_object(Bucket=sandbox.bucket, Key=e["Key"])["Body"].read() for e in listed}


@pytest.mark.parametrize("run_id", ["../specs/x", "a/b", "x" * 200, "has space", "", "a..b", "dot.ted"])
def test_bad_run_ids_are_input_errors_that_write_nothing(sandbox: Sandbox, run_id: str) -> None:
    spec = lower(flows.diamond)
    sandbox.deploy(spec)
    assert sandbox.client is not None
    before = _runs(sandbox)
    with pytest.raises(InputError, match=r"^run_id .* must be 1-80 characters of letters, digits") as info:
        sandbox.client.submit(spec, {"x": 1}, run_id=run_id)
    assert info.value.input_name == "run_id"
    assert "\n" not in str(info.value)
    assert _runs(sandbox) == before


def test_a_taken_run_id_fails_and_leaves_the_original_inputs(sandbox: Sandbox) -> None:
    spec = lower(flows.diamond)
    sandbox.deploy(spec)
    assert sandbox.client is not None
    first = sandbox.client.submit(spec, {"x": 2}, run_id="taken-run_1")
    assert first.wait(timeout=60).outputs() == {"o0": "5+8"}
    inputs_key = protocol.inputs_key(spec.name, "taken-run_1")
    original = _runs(sandbox)[inputs_key]
    with pytest.raises(InputError, match="run_id 'taken-run_1' is taken"):
        sandbox.client.submit(spec, {"x": 3}, run_id="taken-run_1")
    assert _runs(sandbox)[inputs_key] == original
