"""Starting runs on a stratoflow stack and reading their results.

:class:`Client` submits executions; the S3 trigger starter (``stratoflow_functions``) starts
them from object events. Both start a run the same way (``start_run``).

Example:
    >>> from stratoflow.client import Client
    >>> Client.from_stack("Stratoflow").run(pipeline, parts=10).wait().outputs()  # doctest: +SKIP
"""

from stratoflow.client._client import Client, Execution
from stratoflow.client._schedules import ScheduleOutcome, ScheduleSettings, start_scheduled_run
from stratoflow.client._triggers import (
    S3ObjectEvent,
    TriggerOutcome,
    TriggerSettings,
    TriggerTarget,
    execution_name,
    key_matches,
    start_triggered_runs,
    targets_json,
)

__all__ = [
    "Client",
    "Execution",
    "S3ObjectEvent",
    "ScheduleOutcome",
    "ScheduleSettings",
    "TriggerOutcome",
    "TriggerSettings",
    "TriggerTarget",
    "execution_name",
    "key_matches",
    "start_scheduled_run",
    "start_triggered_runs",
    "targets_json",
]
