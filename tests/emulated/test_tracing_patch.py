"""install_noop_tracer: the emulated Lambdas' Tracer without the X-Ray SDK while tracing is off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Tracer

from stratoflow.testing import EmulatedAws
from stratoflow.testing._patches_tracing import NoopTracingProvider, install_noop_tracer
from tests.emulated.test_speed_patches import _fresh_python

pytestmark = pytest.mark.emulated


@pytest.fixture
def fresh_tracer_config() -> Iterator[None]:
    """Tracers share their first provider (class-level config): start and end without one."""
    saved = dict(Tracer._config)
    Tracer._reset_config()
    yield
    Tracer._config = saved


def test_raw_a_disabled_tracer_still_makes_the_xray_recorder(fresh_tracer_config: None) -> None:
    # What the patch stands in for: outside Lambda tracing is off, yet the SDK's recorder is made.
    undo = install_noop_tracer()
    undo()
    tracer = Tracer(service="probe")
    assert tracer.disabled
    assert "AWSXRayRecorder" in type(tracer.provider).__name__  # the SDK's (Async)AWSXRayRecorder


def test_a_disabled_tracer_gets_the_noop_provider_and_its_handler_runs_and_raises(
    aws: EmulatedAws, fresh_tracer_config: None
) -> None:
    tracer = Tracer(service="probe")
    assert isinstance(tracer.provider, NoopTracingProvider)

    @tracer.capture_lambda_handler
    def handler(event: dict[str, int], context: object) -> dict[str, int]:
        if event["x"] < 0:
            raise ValueError("negative x")
        return {"y": event["x"] * 2}

    assert handler({"x": 2}, None) == {"y": 4}
    with pytest.raises(ValueError, match="negative x"):
        handler({"x": -1}, None)

    @tracer.capture_method
    def method(x: int) -> int:
        return x + 1

    assert method(1) == 2


def test_an_enabled_tracer_still_gets_the_xray_recorder(
    aws: EmulatedAws, fresh_tracer_config: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    tracer = Tracer(service="probe", auto_patch=False)
    assert not isinstance(tracer.provider, NoopTracingProvider)
    assert "AWSXRayRecorder" in type(tracer.provider).__name__  # the SDK's (Async)AWSXRayRecorder


def test_undo_forgets_the_shared_noop_provider(fresh_tracer_config: None) -> None:
    with EmulatedAws():
        assert isinstance(Tracer(service="probe").provider, NoopTracingProvider)
    # EmulatedAws's exit keeps the patches (process-global); the undo alone is checked here.
    install_noop_tracer()()
    assert Tracer._config["provider"] is None
    install_noop_tracer()


def test_a_sandbox_run_never_imports_the_xray_sdk_core() -> None:
    code = """
import io, sys
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import sandbox_cli_flows as flows
with Sandbox(container_log=io.StringIO()) as sandbox:
    print(sandbox.run(lower(flows.doubled), {"x": 2}).outputs()["o0"])
print("aws_xray_sdk.core" in sys.modules)
"""
    assert _fresh_python(code).split("\n")[:2] == ["4", "False"]
