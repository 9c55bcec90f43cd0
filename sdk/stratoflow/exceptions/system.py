"""Flyte's system exceptions (``flytekit.exceptions.system``), under the same module path and names."""

from __future__ import annotations

from stratoflow.exceptions.base import FlyteException, FlyteRecoverableException

__all__ = [
    "FlyteNonRecoverableSystemException",
    "FlyteNotImplementedException",
    "FlyteSystemAssertion",
    "FlyteSystemException",
]


class FlyteSystemException(FlyteRecoverableException):
    """An error of the platform, not of user code (recoverable, as in Flyte)."""

    _ERROR_CODE = "SYSTEM:Unknown"


class FlyteNotImplementedException(FlyteSystemException, NotImplementedError):
    """Something the platform does not implement."""

    _ERROR_CODE = "SYSTEM:NotImplemented"


class FlyteSystemAssertion(FlyteSystemException, AssertionError):
    """A failed platform check."""

    _ERROR_CODE = "SYSTEM:AssertionError"


class FlyteNonRecoverableSystemException(FlyteException):
    """A platform error not worth retrying; wraps the exception raised (``.value``)."""

    _ERROR_CODE = "USER:NonRecoverableSystemError"

    def __init__(self, exc_value: Exception) -> None:
        self._exc_value = exc_value
        super().__init__(str(exc_value))

    @property
    def value(self) -> Exception:
        """The wrapped exception."""
        return self._exc_value
