"""The one error boundary around user code, shared by the local executor and the AWS runner."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from stratoflow.errors import SdkError, TaskFailedError

__all__ = ["call_user"]


def call_user(fn: Callable[..., Any], kwargs: dict[str, Any], *, node: str, attempt: int) -> Any:
    """Call a task function; wrap what it raises in TaskFailedError (``SdkError`` passes through)."""
    try:
        return fn(**kwargs)
    except SdkError:
        raise
    except Exception as exc:
        raise TaskFailedError(
            f"task in node '{node}' failed (attempt {attempt}): {type(exc).__name__}: {exc}",
            node=node,
            attempt=attempt,
            error_type=type(exc).__name__,
            traceback_text="".join(traceback.format_exception(exc)),
        ) from exc
