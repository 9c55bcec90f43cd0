"""The whole stratoflow exception tree.

Every error a user can see is an :class:`SdkError`. Definition and compile errors carry
the user's source location and render as ``path:line:col: error: message`` so editors can
link them; several problems found in one definition are raised once, numbered.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "CacheError",
    "CompileError",
    "ConfigError",
    "DefinitionError",
    "ExecutionError",
    "InputError",
    "IntegrityError",
    "Problem",
    "SdkError",
    "TaskFailedError",
    "TaskTimeoutError",
]


# A NamedTuple, not a frozen dataclass: as immutable, and four times cheaper to make at import.
class Problem(NamedTuple):
    """One thing wrong with a definition, and where it is."""

    message: str
    path: str = "<unknown>"
    line: int = 0
    col: int = 0
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.path}:{self.line}:{self.col}: error: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class SdkError(Exception):
    """Base of every error stratoflow raises on purpose."""


class _ProblemsError(SdkError):
    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("an error needs at least one problem")
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0].render()
        lines = [f"{len(self.problems)} problems found:"]
        lines += [f"  {i}. {p.render()}" for i, p in enumerate(self.problems, start=1)]
        return "\n".join(lines)

    @property
    def location(self) -> tuple[str, int, int]:
        """``(path, line, col)`` of the first problem."""
        first = self.problems[0]
        return first.path, first.line, first.col


class DefinitionError(_ProblemsError):
    """A bad ``@task`` / ``@workflow``, raised at import or trace time."""


class CompileError(_ProblemsError):
    """Valid Python that a backend cannot express (payload or size limits, unsupported constructs)."""


class InputError(SdkError):
    """An execution input that does not match the workflow interface (names the input)."""

    def __init__(self, message: str, *, input_name: str | None = None) -> None:
        self.input_name = input_name
        super().__init__(message)


class ExecutionError(SdkError):
    """A run that did not succeed."""


class TaskFailedError(ExecutionError):
    """A task's user code raised; ``raise ... from`` the user exception."""

    def __init__(
        self,
        message: str,
        *,
        node: str,
        attempt: int = 1,
        error_type: str = "Exception",
        traceback_text: str | None = None,
    ) -> None:
        self.node = node
        self.attempt = attempt
        self.error_type = error_type
        self.traceback_text = traceback_text
        super().__init__(message)


class TaskTimeoutError(TaskFailedError):
    """A task attempt ran past its ``timeout``."""


class CacheError(ExecutionError):
    """The cache store could not be read or written."""


class IntegrityError(ExecutionError):
    """Stored bytes that are not what their name says: a blob whose sha256 is not its address, or a
    spec key the runner refuses (outside the spec prefixes, not hash-named, or naming a non-task)."""

    def __init__(self, message: str, *, uri: str) -> None:
        self.uri = uri
        super().__init__(message)


class ConfigError(SdkError):
    """Missing or invalid settings."""
