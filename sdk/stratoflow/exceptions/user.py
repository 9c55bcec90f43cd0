"""Flyte's user exceptions (``flytekit.exceptions.user``), under the same module path and names."""

from __future__ import annotations

from stratoflow.exceptions.base import FlyteException
from stratoflow.exceptions.base import FlyteRecoverableException as _Recoverable

__all__ = [
    "FlyteAssertion",
    "FlyteAuthenticationException",
    "FlyteDataNotFoundException",
    "FlyteDisapprovalException",
    "FlyteEntityAlreadyExistsException",
    "FlyteEntityNotExistException",
    "FlyteInvalidInputException",
    "FlyteRecoverableException",
    "FlyteTimeout",
    "FlyteTypeException",
    "FlyteUserException",
    "FlyteUserRuntimeException",
    "FlyteValidationException",
    "FlyteValueException",
]


class FlyteUserException(FlyteException):
    """An error in user code.

    Example:
        >>> str(FlyteUserException("bad row"))
        'USER:Unknown: error=bad row'
    """

    _ERROR_CODE = "USER:Unknown"


class FlyteUserRuntimeException(FlyteException):
    """Wraps an exception user code raised (``.value``); its error code is the wrapped one's, if any."""

    _ERROR_CODE = "USER:RuntimeError"

    def __init__(self, exc_value: Exception, timestamp: float | None = None) -> None:
        self._exc_value = exc_value
        super().__init__(str(exc_value), timestamp=timestamp)

    @property
    def value(self) -> Exception:
        """The wrapped exception."""
        return self._exc_value

    @property
    def error_code(self) -> str:
        """The wrapped exception's ``error_code`` (str or int) if it has one, else ``USER:RuntimeError``."""
        code = getattr(self.value, "error_code", None)
        if code is None:
            return self._ERROR_CODE
        if isinstance(code, str | int):
            return str(code)
        raise FlyteException(f"error_code must be a str or int, got {type(code).__name__}")


class FlyteTypeException(FlyteUserException, TypeError):
    """A value of the wrong type (Flyte's message: ``Type error!  Received: ..., Expected: ...``)."""

    _ERROR_CODE = "USER:TypeError"

    def __init__(
        self,
        received_type: object,
        expected_type: object,
        additional_msg: str | None = None,
        received_value: object = None,
    ) -> None:
        one_of = " one of" if isinstance(expected_type, list | tuple | set) else ""
        value = f" with value: {received_value}" if received_value is not None else ""
        super().__init__(
            f"Type error!  Received: {received_type}{value}, Expected{one_of}: {expected_type}. "
            f"{additional_msg or ''}"
        )


class FlyteValueException(FlyteUserException, ValueError):
    """A bad value (Flyte's message: ``Value error!  Received: <value>. <message>``)."""

    _ERROR_CODE = "USER:ValueError"

    def __init__(self, received_value: object, error_message: str) -> None:
        super().__init__(f"Value error!  Received: {received_value}. {error_message}")


class FlyteDataNotFoundException(FlyteValueException):
    """A path that holds no data."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "File not found")


class FlyteAssertion(FlyteUserException, AssertionError):
    """A failed check in user code."""

    _ERROR_CODE = "USER:AssertionError"


class FlyteValidationException(FlyteAssertion):
    """Invalid user input or definition."""

    _ERROR_CODE = "USER:ValidationError"


class FlyteDisapprovalException(FlyteAssertion):
    """A result that was not approved."""

    _ERROR_CODE = "USER:ResultNotApproved"


class FlyteEntityAlreadyExistsException(FlyteAssertion):
    """Something to create already exists."""

    _ERROR_CODE = "USER:EntityAlreadyExists"


class FlyteEntityNotExistException(FlyteAssertion):
    """Something named does not exist."""

    _ERROR_CODE = "USER:EntityNotExist"


class FlyteTimeout(FlyteAssertion):
    """Something took too long."""

    _ERROR_CODE = "USER:Timeout"


class FlyteRecoverableException(FlyteUserException, _Recoverable):
    """A user error worth retrying: Flyte retries only these (and system errors).

    stratoflow retries every failure up to the task's ``retries``, so raising this is never needed
    here, but a ported task that raises it keeps its meaning (see the README, "Flyte code").

    Example:
        >>> str(FlyteRecoverableException("flaky"))
        'USER:Recoverable: error=flaky'
    """

    _ERROR_CODE = "USER:Recoverable"


class FlyteAuthenticationException(FlyteAssertion):
    """Credentials were refused."""

    _ERROR_CODE = "USER:AuthenticationError"


class FlyteInvalidInputException(FlyteUserException):
    """A request with bad input (``.request``)."""

    _ERROR_CODE = "USER:BadInputToAPI"

    def __init__(self, request: object) -> None:
        self.request = request
        super().__init__()
