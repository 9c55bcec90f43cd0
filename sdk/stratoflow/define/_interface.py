"""Interface extraction: a function's type hints -> typed inputs and outputs, problems collected."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

from stratoflow import ir, values
from stratoflow.define._location import parameter_location
from stratoflow.define._trace import constant_to_json
from stratoflow.errors import Problem

__all__ = ["Interface", "extract_interface", "is_namedtuple", "kwtypes"]

OutputStyle = Literal["none", "single", "tuple", "namedtuple"]


class Interface(NamedTuple):  # immutable; a NamedTuple is cheaper to define at import than a dataclass
    inputs: tuple[ir.Variable, ...]
    outputs: tuple[ir.Variable, ...]
    output_style: OutputStyle
    output_class: Any = None  # the NamedTuple class, when output_style == "namedtuple"

    # The one place the output style is dispatched on: shape() builds what the function
    # returns from one value per output, unshape() takes it apart again.
    def shape(self, values: Sequence[Any]) -> Any:
        """One value per output -> the return value (None, the value, a tuple or a NamedTuple)."""
        if self.output_style == "none":
            return None
        if self.output_style == "single":
            return values[0] if values else None
        if self.output_style == "namedtuple":
            return self.output_class(*values)
        return tuple(values)

    def unshape(self, result: object) -> tuple[object, ...] | None:
        """A return value -> one value per output; None if it has the wrong number of items."""
        if self.output_style == "none":
            return ()
        if self.output_style == "single":
            return (result,)
        if self.output_style == "namedtuple" and len(self.outputs) == 1:
            # Flyte's rule for a one-field NamedTuple: a tuple gives its item, anything else is the value.
            return (result[0] if isinstance(result, tuple) and len(result) == 1 else result,)
        if isinstance(result, tuple) and len(result) == len(self.outputs):
            return tuple(result)
        return None


def kwtypes(**kwargs: object) -> dict[str, object]:
    """Names and types, in order (Flyte's ``kwtypes``: column subsets, ``ShellTask`` inputs).

    Example:
        >>> kwtypes(name=str, age=int)
        {'name': <class 'str'>, 'age': <class 'int'>}
    """
    return dict(kwargs)


def is_namedtuple(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, tuple) and hasattr(annotation, "_fields")


def _problem(fn: Callable[..., Any], name: str | None, message: str) -> Problem:
    loc = parameter_location(fn, name)
    return Problem(message=message, path=loc.path, line=loc.line, col=loc.col)


def _outputs(
    fn: Callable[..., Any], what: str, hints: dict[str, Any], problems: list[Problem]
) -> tuple[tuple[ir.Variable, ...], OutputStyle, Any]:
    # No return annotation means no outputs, as in flytekit.
    annotation = hints.get("return")
    if annotation is None or annotation is type(None):
        return (), "none", None
    if annotation == ():  # flytekit reads `-> ()` as no outputs too
        return (), "none", None
    if isinstance(annotation, tuple):  # Flyte's `-> (int, str)`: a tuple of outputs
        if len(annotation) == 1:  # flytekit refuses it too ("don't use a tuple ... returning one thing")
            problems.append(
                _problem(fn, None, f"{what} returns a tuple of one item; annotate the item itself")
            )
            return (), "none", None
        pairs: list[tuple[str, Any]] = [(f"o{i}", arg) for i, arg in enumerate(annotation)]
        style: OutputStyle = "tuple"
    elif is_namedtuple(annotation):
        field_hints = typing.get_type_hints(annotation, include_extras=True)
        pairs = [(name, field_hints.get(name)) for name in annotation._fields]
        style = "namedtuple"
    elif typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if not args or args[-1] is Ellipsis:
            problems.append(
                _problem(fn, None, f"{what} returns a tuple of unknown length; annotate each item")
            )
            return (), "none", None
        pairs = [(f"o{i}", arg) for i, arg in enumerate(args)]
        style = "tuple"
    else:
        pairs = [("o0", annotation)]
        style = "single"
    outputs = []
    for name, hint in pairs:
        try:
            outputs.append(ir.Variable.trusted(name=name, type=values.typeref_of(hint)))
        except values.UnsupportedTypeError as exc:
            problems.append(_problem(fn, None, f"{what} output '{name}': {exc}"))
    return tuple(outputs), style, annotation if style == "namedtuple" else None


def extract_interface(fn: Callable[..., Any], what: str, problems: list[Problem]) -> Interface:
    """Read inputs and outputs from ``fn``'s signature; append any problem to ``problems``."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # noqa: BLE001 - a bad annotation is the user's problem, reported
        problems.append(_problem(fn, None, f"{what} has annotations that cannot be resolved: {exc}"))
        return Interface((), (), "none")
    inputs: list[ir.Variable] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            problems.append(
                _problem(fn, param.name, f"{what} may not take *args or **kwargs ('{param.name}')")
            )
            continue
        if param.name not in hints:
            problems.append(_problem(fn, param.name, f"{what} input '{param.name}' has no type annotation"))
            continue
        try:
            t = values.typeref_of(hints[param.name])
        except values.UnsupportedTypeError as exc:
            problems.append(_problem(fn, param.name, f"{what} input '{param.name}': {exc}"))
            continue
        if param.default is inspect.Parameter.empty:
            inputs.append(ir.Variable.trusted(name=param.name, type=t))
            continue
        try:
            default = constant_to_json(param.default, t)
        except values.ValueTypeError as exc:
            problems.append(_problem(fn, param.name, f"{what} input '{param.name}' default: {exc}"))
            continue
        inputs.append(ir.Variable.trusted(name=param.name, type=t, has_default=True, default=default))
    outputs, style, output_class = _outputs(fn, what, hints, problems)
    return Interface(tuple(inputs), outputs, style, output_class)
