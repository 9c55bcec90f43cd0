"""``with_overrides(container_image=...)`` moves one call onto its image, on Lambda and on Fargate,
in emulated AWS; the other calls of the same task keep the shared runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratoflow.backends import asl
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import image_override_flows as flows

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def test_an_overridden_image_is_the_call_s_own_on_lambda_and_fargate(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(flows.overridden)
    images = {node.id: spec.tasks[node.task].image for node in spec.nodes}
    assert {k: v.tag if v else None for k, v in images.items()} == {
        "plain": flows.OVERRIDE.tag,
        "plain_2": None,
        "sized": flows.OVERRIDE.tag,
    }
    states = asl.compile_workflow(spec).definition["States"]
    image_function = protocol.ref(protocol.image_function(flows.OVERRIDE.tag))
    assert states["plain"]["Parameters"]["FunctionName"] == image_function
    assert states["plain_2"]["Parameters"]["FunctionName"] != image_function
    execution = sandbox.run(spec, {"x": 1})
    assert execution.outputs() == run_local(spec, {"x": 1}, RunOptions(home=tmp_path, progress=False)).outputs
    assert execution.outputs() == {"o0": 30}
    functions = sandbox.aws.client("lambda").list_functions()["Functions"]
    assert f"stratoflow-task-runner-{flows.OVERRIDE.tag}" in {f["FunctionName"] for f in functions}
    families = sandbox.aws.client("ecs").list_task_definition_families()["families"]
    assert f"stratoflow-cpu4-mem16384-img{flows.OVERRIDE.tag}" in families
