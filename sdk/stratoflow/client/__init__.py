"""Starting runs on a stratoflow stack and reading their results.

:class:`Client` submits executions; the S3 trigger starter (``stratoflow_functions``) starts
them from object events. Both start a run the same way (``start_run``).

Each name loads its module on first use: a sandbox run or a CLI that reads executions never
imports the trigger and schedule starters' models.

Example:
    >>> from stratoflow.client import Client
    >>> Client.from_stack("Stratoflow").run(pipeline, parts=10).wait().outputs()  # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from stratoflow._lazy import module_getattr

if TYPE_CHECKING:
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

# Each exported name, and the module it comes from.
_LAZY = {
    "Client": "_client",
    "Execution": "_client",
    "S3ObjectEvent": "_triggers",
    "ScheduleOutcome": "_schedules",
    "ScheduleSettings": "_schedules",
    "TriggerOutcome": "_triggers",
    "TriggerSettings": "_triggers",
    "TriggerTarget": "_triggers",
    "execution_name": "_triggers",
    "key_matches": "_triggers",
    "start_scheduled_run": "_schedules",
    "start_triggered_runs": "_triggers",
    "targets_json": "_triggers",
}

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


__getattr__ = module_getattr(__name__, _LAZY, globals())
