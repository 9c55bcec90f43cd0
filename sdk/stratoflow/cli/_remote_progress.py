"""Progress of a sandbox or remote run: the local run's bars, driven by polling the node records
the runner writes into the bucket (``client.stored_records``) and the nodes whose outputs are stored.

One listing of the records prefix per poll, and a GET only for the objects that changed since the
last; a running map node's item count comes from its prepared metadata, once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from stratoflow import ir

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from stratoflow.backends.local._progress import RunProgress
    from stratoflow.client._records import RecordsSeen

__all__ = ["POLL_SECONDS", "RecordsWatcher"]

POLL_SECONDS: Final = 1.0
"""How often a remote run's records are listed (a sandbox polls faster: its bucket is in-process)."""

_DONE: Final = frozenset(
    {ir.NodeStatus.SUCCEEDED, ir.NodeStatus.CACHED, ir.NodeStatus.FAILED, ir.NodeStatus.SKIPPED}
)


class RecordsWatcher:
    """Polls run ``run_id``'s records on a thread: advances ``progress``, hands them to ``on_records``."""

    def __init__(
        self,
        s3: S3Client,
        bucket: str,
        run_id: str,
        spec: ir.WorkflowSpec,
        progress: RunProgress,
        *,
        on_records: Callable[[list[ir.NodeRecord]], None] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        from stratoflow.aws import S3OutputStore  # noqa: PLC0415 - boto3 only for remote runs

        self.s3, self.bucket, self.run_id, self.spec = s3, bucket, run_id, spec
        self.progress = progress
        self.on_records = on_records
        self.poll_seconds = poll_seconds
        self._outputs = S3OutputStore(s3, bucket, spec.name, run_id)
        self._nodes = {node.id for node in spec.nodes}
        self._maps = {node.id for node in spec.nodes if isinstance(node, ir.MapNode)}
        self._done: set[str] = set()
        self._items: dict[str, int] = {}  # a drawn map node's items counted so far
        self.seen: RecordsSeen = {}  # what was read: an unchanged object is not read again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"records-{run_id[:12]}", daemon=True)

    def __enter__(self) -> RecordsWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.progress.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # noqa: BLE001, S112 - progress is cosmetic: never fail a run over it
                continue

    def poll(self) -> list[ir.NodeRecord]:
        """Read the records once, advance the bars, hand the records on; returns them."""
        from stratoflow.client._records import stored_records  # noqa: PLC0415

        records = stored_records(self.s3, self.bucket, self.spec.name, self.run_id, self.seen)
        nodes = {r.node: r for r in records if r.item is None}
        for node in sorted(self._maps - self._done):
            record = nodes.get(node)
            if record is not None and record.status == ir.NodeStatus.RUNNING and node not in self._items:
                try:
                    count = self._outputs.map_count(node)
                except Exception:  # noqa: BLE001, S112 - not prepared yet: drawn next poll
                    continue
                self.progress.map_started(node, count)
                self._items[node] = 0
            if node in self._items:
                finished = sum(
                    1 for r in records if r.node == node and r.item is not None and r.status in _DONE
                )
                if finished > self._items[node]:
                    self.progress.map_advanced(node, finished - self._items[node])
                    self._items[node] = finished
        stored = self._outputs.completed_nodes()
        for node in sorted(self._nodes - self._done):
            record = nodes.get(node)
            if node in stored or (record is not None and record.status in _DONE):
                self._done.add(node)
                if node in self._items:
                    self.progress.map_finished(node)
                self.progress.node_done(node)
        if self.on_records is not None:
            self.on_records(records)
        return records
