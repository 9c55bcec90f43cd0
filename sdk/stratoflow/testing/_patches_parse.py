"""A state machine's definition parsed once for its creation and its first execution, pinned to moto 5.2.5.

moto parses a definition with its ANTLR grammar when the state machine is created (to reject
an invalid one) and again in every execution's thread before its first state runs: about
25 ms for a four-task workflow, on the critical path of a ``run --sandbox``, which creates
a machine and runs it once.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from stratoflow.testing._patching import Patcher, Undo, install_patch

__all__ = ["SPARE_PARSES", "install_parse_once"]

SPARE_PARSES = 32
"""How many created-but-unstarted definitions keep their parse (the oldest is dropped first)."""


def install_parse_once() -> Undo:
    """Hand the parse that CreateStateMachine validated to the first execution of that definition.

    A parsed program is used once: evaluating it keeps state in its components, and the map
    patches rewrite a Map's ItemBatcher in place (``install_definition_rewrites``). The one
    made at creation is never evaluated, so the first execution whose definition is that same
    text takes it instead of parsing again; the executions after it, or of another text (an
    updated machine), parse their own as before. Install after ``install_definition_rewrites``:
    the kept parse is of the rewritten definition, as the execution's own would be.
    """
    spare: dict[str, Any] = {}  # definition text -> (program, parse tree), oldest first
    lock = threading.Lock()
    keeping = threading.local()  # set while this thread validates a definition

    def apply(p: Patcher) -> None:
        inner_parse = AmazonStateLanguageParser.parse  # the rewriting one, when installed
        inner_validate = StepFunctionsParserBackend._validate_definition
        inner_entrypoint = ExecutionWorker._get_evaluation_entrypoint

        def parse(definition: str) -> Any:
            parsed = inner_parse(definition)
            if getattr(keeping, "active", False):
                with lock:
                    spare.pop(definition, None)
                    spare[definition] = parsed
                    while len(spare) > SPARE_PARSES:
                        del spare[next(iter(spare))]
            return parsed

        def validate_definition(definition: str) -> None:
            keeping.active = True
            try:
                inner_validate(definition=definition)  # moto's own errors for an invalid one
            finally:
                keeping.active = False

        def evaluation_entrypoint(self: ExecutionWorker) -> Any:
            definition = self._evaluation_details.state_machine_details.definition
            with lock:
                parsed = spare.pop(definition, None)
            return inner_entrypoint(self) if parsed is None else parsed[0]

        p.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))
        p.setattr(StepFunctionsParserBackend, "_validate_definition", staticmethod(validate_definition))
        p.setattr(ExecutionWorker, "_get_evaluation_entrypoint", evaluation_entrypoint)
        p.on_undo(spare.clear)

    return install_patch("install_parse_once", apply)
