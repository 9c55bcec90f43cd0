"""Flyte's exception classes under their flytekit names and module paths.

``from flytekit.exceptions.user import FlyteRecoverableException`` ports as
``from stratoflow.exceptions.user import FlyteRecoverableException`` (also ``.base``, ``.system``).
The user-facing ones are also importable from here; ``FlyteRecoverableException`` here is the
user one (``stratoflow.exceptions.user``), which is what a task raises.
"""

from stratoflow.exceptions.base import FlyteException
from stratoflow.exceptions.system import FlyteNonRecoverableSystemException, FlyteSystemException
from stratoflow.exceptions.user import (
    FlyteAssertion,
    FlyteDataNotFoundException,
    FlyteRecoverableException,
    FlyteTimeout,
    FlyteTypeException,
    FlyteUserException,
    FlyteUserRuntimeException,
    FlyteValidationException,
    FlyteValueException,
)

__all__ = [
    "FlyteAssertion",
    "FlyteDataNotFoundException",
    "FlyteException",
    "FlyteNonRecoverableSystemException",
    "FlyteRecoverableException",
    "FlyteSystemException",
    "FlyteTimeout",
    "FlyteTypeException",
    "FlyteUserException",
    "FlyteUserRuntimeException",
    "FlyteValidationException",
    "FlyteValueException",
]
