"""The local backend: run a workflow's IR in this process (threads, SQLite cache, local blobs)."""

from stratoflow._frozen_heap import freeze_loaded
from stratoflow.backends.local._executor import LocalRun, RunOptions, run_local
from stratoflow.backends.local._history import RunHistory, RunRecord, recover_recorded, run_recorded
from stratoflow.backends.local._progress import start_progress
from stratoflow.runtime import encode_inputs, validate_inputs

__all__ = [
    "LocalRun",
    "RunHistory",
    "RunOptions",
    "RunRecord",
    "encode_inputs",
    "recover_recorded",
    "run_local",
    "run_recorded",
    "start_progress",
    "validate_inputs",
]

# The local backend's modules are loaded: out of every later collection (see the module).
freeze_loaded()
