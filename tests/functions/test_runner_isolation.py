"""The runner runs only what was deployed: hash-named spec keys under the spec prefixes whose bytes
match, task refs that name stratoflow tasks, and interpreter events only for planned sub-runs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from stratoflow.errors import IntegrityError
from stratoflow.ir import protocol
from stratoflow.testing import FakeLambdaContext
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import flows
from tests.functions.test_task_runner import _prepare

pytestmark = pytest.mark.emulated


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _context() -> FakeLambdaContext:
    return FakeLambdaContext(function_name="stratoflow-task-runner")


def _put(sandbox: Sandbox, key: str, body: bytes) -> None:
    sandbox.aws.client("s3").put_object(Bucket=sandbox.bucket, Key=key, Body=body)


def _run_objects(sandbox: Sandbox, run: str) -> list[str]:
    listed = sandbox.aws.client("s3").list_objects_v2(
        Bucket=sandbox.bucket, Prefix=protocol.node_outputs_prefix("diamond", run)
    )
    return [entry["Key"] for entry in listed.get("Contents", [])]


def test_a_crafted_spec_naming_subprocess_getoutput_is_refused(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.diamond, "run-x", {"x": 1})
    calls: list[object] = []
    monkeypatch.setattr(subprocess, "getoutput", lambda *a, **k: calls.append((a, k)))
    raw = json.loads(compiled.spec_json)
    for task in raw["tasks"].values():
        task["ref"] = "subprocess:getoutput"
    body = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    key = protocol.spec_key(raw["name"], body)  # hash-named, so only the task check stands in the way
    _put(sandbox, key, body)
    with pytest.raises(IntegrityError, match="'subprocess:getoutput' does not name a stratoflow task"):
        task_runner.handler({"run": "run-x", "spec": key, "node": "double"}, _context())
    assert calls == []
    assert _run_objects(sandbox, "run-x") == []


@pytest.mark.parametrize(
    "key",
    ["runs/run-x/spec.json", "specs/diamond/../x/0123456789abcdef.json", "blobs/ab/spec.json"],
)
def test_a_spec_key_outside_the_spec_prefixes_is_refused_unread(sandbox: Sandbox, key: str) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.diamond, "run-y", {"x": 1})
    _put(sandbox, key, compiled.spec_json)
    with pytest.raises(IntegrityError, match="is not a hash-named key under specs/"):
        task_runner.handler({"run": "run-y", "spec": key, "node": "double"}, _context())
    assert _run_objects(sandbox, "run-y") == []


def test_a_spec_whose_bytes_do_not_match_its_name_is_refused(sandbox: Sandbox) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.diamond, "run-z", {"x": 1})
    key = "specs/diamond/0123456789abcdef.json"
    _put(sandbox, key, compiled.spec_json)
    with pytest.raises(IntegrityError, match="does not hash to its name"):
        task_runner.handler({"run": "run-z", "spec": key, "node": "double"}, _context())


def test_interpreter_events_only_for_planned_sub_runs(sandbox: Sandbox) -> None:
    from stratoflow_functions import task_runner

    compiled = _prepare(sandbox, flows.diamond, "victim", {"x": 1})
    # A sub-spec under dynamic-specs/ (hash-named and matching) that no dynamic node planned.
    key = protocol.dynamic_spec_key("diamond", "diamond", compiled.spec_json)
    _put(sandbox, key, compiled.spec_json)
    for event in (
        {"run": "victim", "spec": key, "node": "double", "mode": "dag_run"},
        {"run": "victim", "spec": compiled.spec_key, "node": "", "mode": "dag_next"},
    ):
        with pytest.raises(IntegrityError, match="refused"):
            task_runner.handler(event, _context())
    assert _run_objects(sandbox, "victim") == []
