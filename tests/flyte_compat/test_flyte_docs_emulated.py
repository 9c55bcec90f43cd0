"""A few of Flyte's documented workflows on emulated AWS: the same results as locally, and flytekit's.

The rest of the suite runs locally (``test_flyte_docs_local.py``); these cover what is new on the
AWS path: an imperative workflow, one-field NamedTuple outputs, int- and Enum-keyed dicts read by
key in the workflow (element bindings resolved by the Lambda runner), and a retried
``FlyteRecoverableException`` (the compiled ``Retry``), and the recursive merge sort (a ``@dynamic``
calling a workflow whose conditional calls the ``@dynamic`` again: conditionals inside dynamic graphs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratoflow.backends.local import RunOptions, run_local
from stratoflow.errors import TaskFailedError
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.flyte_compat.flows import flyte_style
from tests.flyte_compat.flows.advanced_composition import conditional, dynamic_workflow
from tests.flyte_compat.flows.basics import imperative_workflow, named_outputs

pytestmark = pytest.mark.emulated

X, Y = [-3, 0, 3], [7, 4, -2]
RED, GREEN = flyte_style.Color.RED, flyte_style.Color.GREEN


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


CASES: list[tuple[str, Any, dict[str, Any], dict[str, Any]]] = [
    ("imperative", imperative_workflow.imperative_wf, {"x": X, "y": Y}, {"wf_output": 3.0}),
    ("named-outputs", named_outputs.simple_wf_with_named_outputs, {}, {"slope": -1.5, "intercept": 3.0}),
    ("int-keys", flyte_style.squares_wf, {"n": 4}, {"o0": "0->0, 1->1, 2->4, 3->9", "o1": 9}),
    ("enum-keys", flyte_style.colors_wf, {}, {"o0": {RED: 2, GREEN: 1}, "o1": 2}),
    ("dynamic", dynamic_workflow.dynamic_wf, {"s1": "Pear", "s2": "Earth"}, {"o0": 3}),
    ("echo", conditional.noop_in_conditional, {"radius": 0.5, "seed": 5}, {"o0": 0.5}),
    ("no-echo", conditional.noop_in_conditional, {"radius": 0.5, "seed": 7}, {"o0": 3.14}),
    (
        "merge-sort",
        dynamic_workflow.merge_sort,
        {"numbers": [1813, 3105, 3260, 2634, 383, 7037, 3291, 2403, 315, 7164, 12], "numbers_count": 11},
        {"o0": sorted([1813, 3105, 3260, 2634, 383, 7037, 3291, 2403, 315, 7164, 12])},
    ),
]


@pytest.mark.parametrize(("wf", "inputs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_outputs_locally_and_on_emulated_aws(
    sandbox: Sandbox, tmp_path: Path, wf: Any, inputs: dict[str, Any], expected: dict[str, Any]
) -> None:
    spec = lower(wf)
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    emulated = sandbox.run(spec, inputs).outputs()
    assert local == emulated == expected


def test_a_recoverable_exception_is_retried_on_aws_as_locally(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(flyte_style.flaky_wf)
    local_attempts, aws_attempts = tmp_path / "local", tmp_path / "aws"
    local = run_local(
        spec,
        {"attempts_file": str(local_attempts)},
        RunOptions(home=tmp_path, progress=False, retry_base_seconds=0.01),
    ).outputs
    emulated = sandbox.run(spec, {"attempts_file": str(aws_attempts)}).outputs()
    assert local == emulated == {"o0": 3}
    assert local_attempts.read_text() == aws_attempts.read_text() == "3"


def test_a_missing_item_fails_the_same_node_with_the_same_words_on_aws(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(flyte_style.sixth_square_wf)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {"n": 4}, RunOptions(home=tmp_path, progress=False))
    with pytest.raises(TaskFailedError) as remote:
        sandbox.run(spec, {"n": 4})
    assert (remote.value.node, remote.value.error_type) == (local.value.node, local.value.error_type)
    assert str(remote.value).partition(" FAILED: ")[2].startswith(str(local.value))
