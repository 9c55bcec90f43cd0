"""Recovery on emulated AWS, deployed from the synthesized stack: ``Client.recover`` starts a new
execution that reuses the failed one's stored node outputs and map items (moto 5.2.5 has no
``RedriveExecution``: the canary below), so their functions are not called again."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.errors import ConfigError, TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox
from stratoflow.testing._stack import TEST_CONTEXT
from tests.ops import recover_flows
from tests.ops.recover_flows import calls

pytestmark = [
    pytest.mark.emulated,
    pytest.mark.skipif(
        importlib.util.find_spec("aws_cdk") is None,
        reason="synthesizing the app needs the cdk extra: pip install -e '.[cdk]'",
    ),
]

REPO = Path(__file__).resolve().parents[2]
FLOWS = REPO / "tests" / "ops" / "recover_flows.py"
CONTEXT = {**TEST_CONTEXT, "stratoflow:workflows": [f"{FLOWS}:pipeline", f"{FLOWS}:fan_out"]}


@pytest.fixture(scope="module")
def stack() -> Iterator[StackSandbox]:
    with StackSandbox(project_dir=REPO, context=CONTEXT) as deployed:
        yield deployed


def test_moto_has_no_redrive(stack: StackSandbox) -> None:
    """Canary: moto 5.2.5 does not implement RedriveExecution (README, Recovery). When this fails,
    moto has it: redrive could then be tested for failures fixed without a deploy."""
    with pytest.raises(NotImplementedError, match="redrive_execution action has not been implemented"):
        stack.aws.client("stepfunctions").redrive_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:pipeline:none"
        )


def test_a_recovered_execution_reuses_the_succeeded_nodes_and_succeeds_after_the_fix(
    stack: StackSandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    failed = stack.client.submit(lower(recover_flows.pipeline), {"folder": str(folder)})
    with pytest.raises(TaskFailedError, match="not fixed yet"):
        failed.wait(timeout=60)
    assert sorted(calls(folder)) == ["audit", "extract", "fragile"]
    (folder / "fixed").touch()
    recovered = stack.client.recover(failed).wait(timeout=60)
    assert recovered.outputs() == {"o0": "audited: 10"}
    assert recovered.run_id.startswith(f"{failed.run_id}-r")
    assert sorted(calls(folder)) == ["audit", "extract", "fragile", "fragile"]
    with pytest.raises(ConfigError, match=f"run {recovered.run_id} is SUCCEEDED: only a failed run"):
        stack.client.recover(recovered.run_id)


def test_a_recovered_map_reruns_only_its_failed_items(stack: StackSandbox, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    failed = stack.client.submit(lower(recover_flows.fan_out), {"folder": str(folder)})
    with pytest.raises(TaskFailedError):
        failed.wait(timeout=60)
    first = calls(folder)
    assert sorted(first) == [f"item{i}" for i in range(7)]
    (folder / "fixed").touch()
    recovered = stack.client.recover(failed.run_id).wait(timeout=60)
    assert recovered.outputs() == {"o0": sum(i * 10 for i in range(7))}
    assert sorted(calls(folder)[len(first) :]) == ["item0", "item3", "item6"]
