"""``Client.submit(cache=False)`` (``run --remote --no-cache``): every task runs again, on Lambda, on
Fargate and inside a ``@dynamic``, and the cache is neither read nor written, as a local
``use_cache=False`` run. ``Client.submit(overwrite_cache=True)`` (``run --remote --overwrite-cache``):
every cached task runs again there too, and its result replaces the entry of its key, as a local
``overwrite_cache=True`` run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow import InputError, ir
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.client import Execution
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import no_cache_flows as flows

pytestmark = pytest.mark.emulated

SPEC = lower(flows.cached_everywhere)
EVERY_CALL = {"square": 4, "heavy_square": 1, "squares": 1}  # x=3: square(3), then square(0..2) inside


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _calls_of(run: Callable[[], object]) -> dict[str, int]:
    """How many times each task's function ran during ``run()`` (only those that ran)."""
    before = dict(flows.CALLS)
    run()
    after = dict(flows.CALLS)
    return {
        name: count - before.get(name, 0) for name, count in after.items() if count != before.get(name, 0)
    }


def _cache_items(sandbox: Sandbox) -> list[Any]:
    return sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]


def test_a_no_cache_run_runs_every_task_again_and_writes_no_cache_entry(sandbox: Sandbox) -> None:
    first = _calls_of(lambda: sandbox.run(SPEC, {"x": 3}))
    assert first == EVERY_CALL
    assert _calls_of(lambda: sandbox.run(SPEC, {"x": 3})) == {}  # all cached
    entries = _cache_items(sandbox)

    executions: list[Execution] = []
    again = _calls_of(lambda: executions.append(sandbox.run(SPEC, {"x": 3}, cache=False)))
    assert again == EVERY_CALL
    execution = executions[0]
    assert execution.outputs() == {"o0": 9, "o1": 9, "o2": [0, 1, 4]}
    records = execution.node_records()
    assert records
    assert {r.status for r in records} == {ir.NodeStatus.SUCCEEDED}
    assert not any(r.cache_hit for r in records)

    fresh = _calls_of(lambda: sandbox.run(SPEC, {"x": 2}, cache=False))
    assert fresh == {"square": 3, "heavy_square": 1, "squares": 1}
    assert _cache_items(sandbox) == entries, "a --no-cache run wrote the cache"


def test_no_cache_runs_the_same_tasks_as_a_local_no_cache_run(sandbox: Sandbox, tmp_path: Path) -> None:
    local_options = RunOptions(home=tmp_path, progress=False)
    run_local(SPEC, {"x": 5}, local_options)
    sandbox.run(SPEC, {"x": 5})
    local = _calls_of(
        lambda: run_local(SPEC, {"x": 5}, RunOptions(home=tmp_path, progress=False, use_cache=False))
    )
    emulated = _calls_of(lambda: sandbox.run(SPEC, {"x": 5}, cache=False))
    assert local == emulated == {"square": 6, "heavy_square": 1, "squares": 1}


def test_the_option_is_stored_only_when_it_is_not_the_default(sandbox: Sandbox) -> None:
    s3 = sandbox.aws.client("s3")
    cached = sandbox.run(SPEC, {"x": 1})
    uncached = sandbox.run(SPEC, {"x": 1}, cache=False)

    def options_of(run_id: str) -> list[str]:
        key = ir.protocol.run_options_key(SPEC.name, run_id)
        return [o["Key"] for o in s3.list_objects_v2(Bucket=sandbox.bucket, Prefix=key).get("Contents", [])]

    assert options_of(cached.run_id) == []
    key = ir.protocol.run_options_key(SPEC.name, uncached.run_id)
    assert options_of(uncached.run_id) == [key]
    body = s3.get_object(Bucket=sandbox.bucket, Key=key)["Body"].read()
    assert ir.protocol.ExecutionOptions.model_validate_json(body).cache is False


def _created(sandbox: Sandbox) -> dict[str, str]:
    items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
    return {item["pk"]["S"]: item["created"]["N"] for item in items}


def test_an_overwriting_run_runs_every_cached_task_and_replaces_its_entry(sandbox: Sandbox) -> None:
    sandbox.run(SPEC, {"x": 4})
    before = _created(sandbox)
    again = _calls_of(lambda: sandbox.run(SPEC, {"x": 4}, overwrite_cache=True))
    assert again == {"square": 5, "heavy_square": 1, "squares": 1}  # square(4), then square(0..3) inside
    after = _created(sandbox)
    replaced = {key for key in before if after[key] != before[key]}
    # Its own entries only: square(0..4), heavy_square(4), squares(4); other runs' stay as they were.
    assert after.keys() == before.keys() and len(replaced) == 7
    assert _calls_of(lambda: sandbox.run(SPEC, {"x": 4})) == {}  # served the replaced entries


def test_it_runs_what_a_local_overwriting_run_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    run_local(SPEC, {"x": 6}, RunOptions(home=tmp_path, progress=False))
    sandbox.run(SPEC, {"x": 6})
    overwriting = RunOptions(home=tmp_path, progress=False, overwrite_cache=True)
    local = _calls_of(lambda: run_local(SPEC, {"x": 6}, overwriting))
    emulated = _calls_of(lambda: sandbox.run(SPEC, {"x": 6}, overwrite_cache=True))
    assert local == emulated == {"square": 7, "heavy_square": 1, "squares": 1}


def test_with_cache_false_it_is_refused_before_anything_starts(sandbox: Sandbox) -> None:
    sandbox.deploy(SPEC)
    assert sandbox.client is not None
    sfn = sandbox.aws.client("stepfunctions")
    arn = sandbox.client.state_machines[SPEC.name]
    started = len(sfn.list_executions(stateMachineArn=arn)["executions"])
    with pytest.raises(InputError, match="overwrite_cache=True and cache=False do not go together"):
        sandbox.client.submit(SPEC, {"x": 1}, cache=False, overwrite_cache=True)
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == started
