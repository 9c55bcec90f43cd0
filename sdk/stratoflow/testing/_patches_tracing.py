"""``install_noop_tracer``: the emulated Lambdas' powertools ``Tracer`` without the X-Ray SDK.

Outside Lambda (no ``LAMBDA_TASK_ROOT``: every emulated run) powertools disables tracing, yet
its ``Tracer`` still imports ``aws_xray_sdk.core`` for a provider, and that import builds two
X-Ray boto3 clients for its sampler: about 0.1 s of a ``run --sandbox`` (its Lambda handler
module makes a ``Tracer`` at import), for a recorder that only hands out dummy segments.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from stratoflow.testing._patching import Patcher, Undo, install_patch

__all__ = ["NoopSegment", "NoopTracingProvider", "install_noop_tracer"]


class NoopSegment:
    """What a disabled X-Ray recorder's subsegment does: accepts everything, records nothing."""

    def close(self, end_time: int | None = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing is recorded."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        """Nothing is recorded (the handler's exception propagates as before)."""


class NoopTracingProvider:
    """A powertools tracing provider (``BaseProvider``'s methods) for a disabled ``Tracer``."""

    @contextlib.contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[NoopSegment]:
        yield NoopSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[NoopSegment]:
        yield NoopSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing is recorded."""

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        """Nothing is recorded."""

    def patch(self, modules: Sequence[str]) -> None:
        """Nothing to instrument."""

    def patch_all(self) -> None:
        """Nothing to instrument."""


def install_noop_tracer() -> Undo:
    """A ``Tracer`` made while tracing is off gets a :class:`NoopTracingProvider` instead of the
    X-Ray SDK's recorder (made only to be disabled); with tracing on (``LAMBDA_TASK_ROOT`` set,
    no ``POWERTOOLS_TRACE_DISABLED``) it still gets the recorder."""

    def apply(p: Patcher) -> None:
        from aws_lambda_powertools.tracing import tracer as tracer_module  # noqa: PLC0415

        tracer_class = tracer_module.Tracer
        original = vars(tracer_class)["_patch_xray_provider"]

        def patch_xray_provider(self: Any) -> Any:
            if tracer_class._is_tracer_disabled():
                return NoopTracingProvider()
            return original(self)

        def forget_noop_provider() -> None:
            # Tracers share their first provider (class-level config): later ones get the SDK's again.
            if isinstance(tracer_class._config.get("provider"), NoopTracingProvider):
                tracer_class._config["provider"] = None

        p.setattr(tracer_class, "_patch_xray_provider", patch_xray_provider)
        p.on_undo(forget_noop_provider)

    return install_patch("install_noop_tracer", apply)
