"""``Client.submit(overwrite_cache=True)`` (``run --remote --overwrite-cache``): every cached task runs
again, on Lambda, on Fargate and inside a ``@dynamic``, and its result replaces the entry of its
key, as in a local ``overwrite_cache=True`` run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stratoflow import InputError
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import no_cache_flows as flows

pytestmark = pytest.mark.emulated

SPEC = lower(flows.cached_everywhere)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _calls_of(run: Callable[[], object]) -> dict[str, int]:
    before = dict(flows.CALLS)
    run()
    return {name: n - before.get(name, 0) for name, n in flows.CALLS.items() if n != before.get(name, 0)}


def _created(sandbox: Sandbox) -> dict[str, str]:
    items = sandbox.aws.client("dynamodb").scan(TableName=sandbox.table)["Items"]
    return {item["pk"]["S"]: item["created"]["N"] for item in items}


def test_an_overwriting_run_runs_every_cached_task_and_replaces_its_entry(sandbox: Sandbox) -> None:
    sandbox.run(SPEC, {"x": 4})
    before = _created(sandbox)
    again = _calls_of(lambda: sandbox.run(SPEC, {"x": 4}, overwrite_cache=True))
    assert again == {"square": 5, "heavy_square": 1, "squares": 1}  # square(4), then square(0..3) inside
    after = _created(sandbox)
    assert after.keys() == before.keys() and all(after[key] != before[key] for key in before)
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
