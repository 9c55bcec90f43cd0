"""Run Lambda functions as in-process Python callables instead of Docker containers."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend

from stratoflow.testing._patching import Patcher, Undo, install_patch

LambdaHandler = Callable[[dict[str, Any], "FakeLambdaContext"], Any]
"""``handler(event, context) -> JSON-able``, the signature of a Python Lambda handler."""

_LOG = logging.getLogger(__name__)
_HANDLERS: dict[str, LambdaHandler] = {}
_HANDLERS_LOCK = threading.Lock()


@dataclass
class FakeLambdaContext:
    """The parts of ``awslambda.context.LambdaContext`` that handlers and powertools read.

    Example:
        >>> ctx = FakeLambdaContext(function_name="runner", timeout_seconds=3)
        >>> ctx.get_remaining_time_in_millis() <= 3000
        True
    """

    function_name: str
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        # Lambda's own stream naming: a day, the version, and the execution environment's id.
        day = time.strftime("%Y/%m/%d", time.gmtime())
        self.log_stream_name = (
            self.log_stream_name or f"{day}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"
        )

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def register_lambda_handler(function_name: str, handler: LambdaHandler) -> None:
    """Route invocations of ``function_name`` to ``handler`` (needs :func:`install_lambda_inprocess`)."""
    with _HANDLERS_LOCK:
        _HANDLERS[function_name] = handler


def unregister_lambda_handler(function_name: str) -> None:
    """Stop routing ``function_name`` in-process; moto's own behaviour applies again."""
    with _HANDLERS_LOCK:
        _HANDLERS.pop(function_name, None)


def _handler_for(function_name: str) -> LambdaHandler | None:
    with _HANDLERS_LOCK:
        return _HANDLERS.get(function_name)


def _run_handler(fn: Any, handler: LambdaHandler, body: str | bytes | None, response_headers: Any) -> bytes:
    event = json.loads(body) if body else {}
    context = FakeLambdaContext(
        function_name=fn.function_name,
        timeout_seconds=float(fn.timeout or 3),
        memory_limit_in_mb=int(fn.memory_size or 128),
        invoked_function_arn=fn.function_arn,
    )
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - every handler failure becomes a Lambda function error, as on AWS
        _LOG.debug("in-process Lambda %s raised", fn.function_name, exc_info=True)
        # "Unhandled" + {errorType, errorMessage} is what the Python runtime returns; Step
        # Functions takes errorType as the Error name, so Retry/Catch on the class name work.
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    return json.dumps(result).encode()


def install_lambda_inprocess() -> Undo:
    """Invoke registered Lambda functions as in-process Python callables.

    moto fixes: with ``use_docker`` it would start a container, and without it
    ``LambdaSimpleBackend.invoke`` echoes the request body. The handler runs inside
    ``LambdaFunction.invoke``, because S3 notifications and CloudFormation custom resources
    call that method directly (patching only the backend makes those paths try Docker).
    ``LambdaSimpleBackend.invoke`` is widened just enough to reach it for registered names.
    Unregistered functions keep moto's behaviour.
    """

    def apply(p: Patcher) -> None:
        orig_fn_invoke = LambdaFunction.invoke
        orig_simple_invoke = LambdaSimpleBackend.invoke

        def fn_invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> Any:
            handler = _handler_for(self.function_name)
            if handler is None:
                return orig_fn_invoke(self, body, request_headers, response_headers)
            payload = _run_handler(self, handler, body, response_headers)
            if request_headers.get("x-amz-invocation-type", "RequestResponse") != "RequestResponse":
                return b""
            return payload

        def simple_invoke(  # noqa: PLR0917 - moto's positional signature
            self: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> Any:
            fn = self.get_function(function_name, qualifier)
            if _handler_for(fn.function_name) is None:
                return orig_simple_invoke(self, function_name, qualifier, body, headers, response_headers)
            return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)

        p.setattr(LambdaFunction, "invoke", fn_invoke)
        p.setattr(LambdaSimpleBackend, "invoke", simple_invoke)

    return install_patch("install_lambda_inprocess", apply)
