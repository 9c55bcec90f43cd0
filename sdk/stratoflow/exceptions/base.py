"""Flyte's base exceptions (``flytekit.exceptions.base``), under the same module path.

These are exceptions *user code* raises inside a task, so they are plain ``Exception``
subclasses, never :class:`stratoflow.errors.SdkError`: the error boundary wraps them like any
other exception, and the failed node's error name is the class name (``FlyteRecoverableException``).
Each carries Flyte's ``error_code`` and prints as Flyte prints it (``USER:Recoverable: error=...``).
"""

from __future__ import annotations

__all__ = ["FlyteException", "FlyteRecoverableException"]


class _CodedExceptionMeta(type):
    @property
    def error_code(cls) -> str:
        """Flyte's error code of the class (``USER:Recoverable``), as on the instances."""
        code: str = cls._ERROR_CODE  # type: ignore[attr-defined]
        return code


class FlyteException(Exception, metaclass=_CodedExceptionMeta):
    """The root of Flyte's exceptions.

    Example:
        >>> str(FlyteException("boom"))
        'UnknownFlyteException: error=boom'
    """

    _ERROR_CODE = "UnknownFlyteException"

    def __init__(self, *args: object, timestamp: float | None = None) -> None:
        super().__init__(*args)
        self._timestamp = timestamp

    @property
    def timestamp(self) -> float | None:
        """When it was raised (seconds since the epoch), if the raiser said."""
        return self._timestamp

    def __str__(self) -> str:
        message = f"error={','.join(str(a) for a in self.args) if self.args else 'None'}"
        if self.__cause__:
            message += f", cause={self.__cause__}"
        return f"{self._ERROR_CODE}: {message}"


class FlyteRecoverableException(FlyteException):
    """An error worth retrying (Flyte retries only these; stratoflow retries every error, see the README)."""

    _ERROR_CODE = "RecoverableFlyteException"
