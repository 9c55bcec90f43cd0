"""The one place the UI reads per-node records, specs and logs from a run's backend.

Local runs: ``RunHistory.nodes(run_id)`` (``ir.NodeRecord`` rows) and ``RunHistory.spec(run_id)``;
a run without a recorded spec (recorded before runs kept it) falls back to loading the
workflow its ``ref`` names. Remote runs: the records the runner writes under
``node_records_prefix(workflow, run_id)`` in the data bucket, and their CloudWatch logs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratoflow import ir
from stratoflow.aws._logs import read_cloudwatch
from stratoflow.backends.local._node_logs import read_log_file
from stratoflow.client._records import stored_records

if TYPE_CHECKING:
    from stratoflow.backends.local import RunHistory
    from stratoflow.values import LiteralRef

__all__ = [
    "cached_outputs",
    "local_nodes",
    "local_spec",
    "output_previews",
    "read_cloudwatch_log",
    "read_log",
    "remote_nodes",
    "spec_from_ref",
]

_log = logging.getLogger(__name__)

# A node's log can be long; the panel shows its end, where a failure's story is.
LOG_TAIL_BYTES = 256 * 1024
# CloudWatch's page of newest events: enough for a panel, and one call.
CLOUDWATCH_EVENTS = 1000
# An output preview is a glance, not a download: the first characters of its JSON.
PREVIEW_CHARS = 400


def local_nodes(history: RunHistory, run_id: str) -> list[ir.NodeRecord]:
    """The run's node (and map item) records: as far as it got, while it runs."""
    return history.nodes(run_id)


def local_spec(history: RunHistory, run_id: str, ref: str) -> ir.WorkflowSpec | None:
    """The spec the run ran: as recorded, else (a run recorded before runs kept their spec)
    the workflow ``ref`` names as it is now."""
    recorded = history.spec(run_id)
    return recorded if recorded is not None else spec_from_ref(ref)


@lru_cache(maxsize=64)
def spec_from_ref(ref: str) -> ir.WorkflowSpec | None:
    """``module:workflow`` imported and lowered, or None if it no longer imports (said once, in the log)."""
    from stratoflow.define import load_workflow  # noqa: PLC0415 - imports user code, only as a fallback
    from stratoflow.lower import lower  # noqa: PLC0415

    module, _, name = ref.partition(":")
    try:
        return lower(load_workflow(module, name))
    except Exception as exc:  # noqa: BLE001 - any import failure of user code means "no graph"
        _log.warning("stratoflow ui: cannot load workflow %s for its graph: %s", ref, exc)
        return None


def read_log(record: ir.NodeRecord) -> str | None:
    """The end of a node's local log file (``""``: the node printed nothing, so it has no file);
    None where there is no local file to read (no log, or CloudWatch). The same reading as
    ``stratoflow logs``, but the tail only: a page shows the end of a long log, where a failure's
    story is."""
    location = record.logs
    if location is None or location.kind != "file" or not location.path:
        return None
    return read_log_file(Path(location.path), last_bytes=LOG_TAIL_BYTES)


def read_cloudwatch_log(logs: Any, record: ir.NodeRecord) -> str | None:
    """The newest events of a node's CloudWatch log in the record's time window (a Lambda stream
    holds every invocation its environment served); None for a record logging elsewhere."""
    location = record.logs
    if logs is None or location is None or location.kind != "cloudwatch" or not location.group:
        return None
    return read_cloudwatch(logs, record, location.group, location.stream, last_events=CLOUDWATCH_EVENTS)


def remote_nodes(s3: Any, bucket: str, workflow: str, run_id: str) -> list[ir.NodeRecord]:
    """The records the runner wrote for remote run ``run_id`` of ``workflow`` (map item batches
    expanded; none yet for runs before records). ``Client.node_records`` adds what only the
    execution knows."""
    try:
        return stored_records(s3, bucket, workflow, run_id)
    except ValueError as exc:  # an unreadable record must not take the page down
        _log.warning("stratoflow ui: unreadable records of run %s: %s", run_id, exc)
        return []


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def output_previews(literals: Mapping[str, LiteralRef]) -> dict[str, str]:
    """Previews of a node's output literals: inline values as JSON, stored ones by size and place."""
    return {
        name: _preview(json.dumps(ref.value, default=str))
        if ref.uri is None
        else f"{ref.size} bytes stored at {ref.uri}"
        for name, ref in sorted(literals.items())
    }


def cached_outputs(home: Path, cache_key: str | None) -> dict[str, str] | None:
    """Previews of a node's outputs from its local cache entry (for runs that recorded no outputs:
    runs from before runs kept them, and sandbox runs). None if not cached."""
    from stratoflow.cache import CacheEntryError, SqliteCacheStore  # noqa: PLC0415

    path = home / "cache.sqlite"
    if cache_key is None or not path.is_file():
        return None
    try:
        entry = SqliteCacheStore(path).get(cache_key)
    except CacheEntryError:
        return None  # an unreadable entry is a miss for the runner too
    if entry is None:
        return None
    return output_previews(entry.outputs)
