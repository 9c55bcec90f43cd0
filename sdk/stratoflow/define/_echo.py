"""flytekit's ``Echo``: a task that hands back its inputs (a no-op branch of a conditional)."""

from __future__ import annotations

import sys
from typing import Any

from stratoflow import ir, values
from stratoflow.define._interface import Interface
from stratoflow.define._location import caller_location
from stratoflow.define._task import TaskDef, declared_options, declared_spec

__all__ = ["Echo"]


class Echo(TaskDef[..., Any]):
    """A task whose outputs are its inputs, by the same names: one input gives its value back, more
    give a tuple. Flyte runs it in its propeller (the ``echo`` plugin); here it is a plain task, run
    where any small task runs (locally on a thread, on AWS on the Lambda runner).

    Example:
        >>> echo = Echo(name="echo", inputs={"radius": float})
        >>> echo(radius=0.5)
        0.5
    """

    def __init__(self, name: str, inputs: dict[str, type] | None = None, **kwargs: Any) -> None:
        made_at = caller_location()
        module = sys._getframe(1).f_globals.get("__name__", "__main__")
        problems: list[str] = []
        variables = []
        for input_name, hint in (inputs or {}).items():
            try:
                variables.append(ir.Variable(name=input_name, type=values.typeref_of(hint)))
            except values.UnsupportedTypeError as exc:
                problems.append(f"echo task '{name}' input '{input_name}': {exc}")
        options = declared_options(f"echo task '{name}'", name, kwargs, problems, made_at)
        style = "none" if not variables else "single" if len(variables) == 1 else "tuple"
        interface = Interface(tuple(variables), tuple(variables), style)  # type: ignore[arg-type]
        signature = repr([(v.name, v.type.render()) for v in variables])
        spec = declared_spec(
            name,
            module,
            identity=f"echo:{signature}",
            interface=interface,
            made_at=made_at,
            options=options,
            run=self.execute,
        )
        super().__init__(fn=self.execute, spec=spec, interface=interface, options=options)

    def execute(self, **kwargs: Any) -> Any:
        """The inputs, in their declared order: the value itself for one, a tuple for more, None for none."""
        given = [kwargs[v.name] for v in self.spec.inputs]
        if not given:
            return None
        return given[0] if len(given) == 1 else tuple(given)
