"""The one error boundary around user code, shared by the local executor and the AWS runner."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from stratoflow import ir
from stratoflow.define import SecretsManager
from stratoflow.errors import SdkError, TaskFailedError

__all__ = ["call_task", "call_user", "missing_module_message", "redact_failure", "user_traceback"]

_SDK: Final = str(Path(__file__).resolve().parents[1])  # the stratoflow package's folder


def user_traceback(exc: BaseException) -> str:
    """``exc``'s traceback from the user's first frame on: the runner's own frames (this boundary,
    the import of the task) are left out, so the text shows what the user wrote."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_SDK):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def missing_module_message(exc: ModuleNotFoundError, task: ir.TaskSpec) -> str | None:
    """What to say when a task with an image lacks a module: the task, the module and its image.

    ``None`` for a task without an image (the plain message says it all). Locally every task
    runs in the current interpreter, so its image's packages must be installed there; on AWS
    the same text says the image does not provide the module.
    """
    image = task.image
    if image is None:
        return None
    module = exc.name or str(exc)
    if image.uri is not None:
        provides = f"its image {image.uri}"
    else:
        packages = ", ".join(image.packages) or "no pip packages"
        extra = f" and {image.requirements}" if image.requirements else ""
        provides = f"its ImageSpec '{image.name}' (packages: {packages}{extra})"
    return (
        f"task '{task.name}' needs module '{module}', which is not installed; {provides} "
        "must provide it (locally, tasks run in the current interpreter: install the packages there)"
    )


def call_user(
    fn: Callable[..., Any],
    kwargs: dict[str, Any],
    *,
    node: str,
    attempt: int,
    task: ir.TaskSpec | None = None,
) -> Any:
    """Call a task function; wrap what it raises in TaskFailedError (``SdkError`` passes through)."""
    try:
        return fn(**kwargs)
    except SdkError:
        raise
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ModuleNotFoundError) and task is not None:
            detail = missing_module_message(exc, task) or detail
        raise TaskFailedError(
            f"task in node '{node}' failed (attempt {attempt}): {detail}",
            node=node,
            attempt=attempt,
            error_type=type(exc).__name__,
            traceback_text=user_traceback(exc),
        ) from exc


def call_task(
    resolve: Callable[[str], Callable[..., Any]],
    task: ir.TaskSpec,
    kwargs: dict[str, Any],
    *,
    node: str,
    attempt: int,
) -> Any:
    """Import (``resolve``) and call ``task``'s function inside the boundary, so a module-level
    import the image lacks fails like one in the body."""

    def imported_and_called(**values: Any) -> Any:
        return resolve(task.ref)(**values)

    return call_user(imported_and_called, kwargs, node=node, attempt=attempt, task=task)


def redact_failure(exc: TaskFailedError, secrets: SecretsManager) -> None:
    """Mask the secret values an attempt read in the failure it raises (message, args, traceback), so no
    error a run stores, logs or shows carries one."""
    for error in (exc, exc.__cause__):
        if error is not None:
            error.args = tuple(secrets.redact(a) if isinstance(a, str) else a for a in error.args)
    if exc.traceback_text:
        exc.traceback_text = secrets.redact(exc.traceback_text)
