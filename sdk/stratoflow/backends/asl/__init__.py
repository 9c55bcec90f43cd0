"""IR -> Amazon States Language: one Standard state machine per workflow.

Exports what the deployers (``infra/``, the sandboxes, the CLI) use; the wire contract the
definitions speak (modes, placeholders, error names, S3 keys) is ``stratoflow.ir.protocol``.

Example:
    >>> from stratoflow.backends import asl
    >>> compiled = asl.compile_workflow(spec)  # doctest: +SKIP
    >>> print(compiled.definition_json())  # doctest: +SKIP
"""

from stratoflow.backends.asl._actor import SQS_SEND_WAIT
from stratoflow.backends.asl._batch import batch_job_definition_name
from stratoflow.backends.asl._compiler import CompiledWorkflow, compile_workflow
from stratoflow.backends.asl._interpreter import interpreter_definition
from stratoflow.backends.asl._states import task_definition_name

__all__ = [
    "SQS_SEND_WAIT",
    "CompiledWorkflow",
    "batch_job_definition_name",
    "compile_workflow",
    "interpreter_definition",
    "task_definition_name",
]
