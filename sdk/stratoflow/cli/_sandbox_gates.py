"""A sandbox run's gates, signalled from another shell as a local run's are.

The emulated stack lives in the ``run --sandbox`` process, so ``stratoflow signal RUN NAME VALUE``
in another shell cannot reach its bucket. While the run goes on, this bridge lists the run's
(and its ``@dynamic`` sub-runs') waiting gates in the emulated bucket and announces each where
a local run's is (``$STRATOFLOW_HOME/runs/<workflow>/<run>/gates/<name>.json``), so the signal
command finds the run by its id prefix and the gate's type; the signal it writes there is
then sent to the emulated run as ``Client.signal`` / ``approve`` would send it to AWS.
Announcements are removed once delivered and when the run ends.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from stratoflow import ir

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from stratoflow.client import Client

__all__ = ["GateBridge", "may_wait_at_gates"]


def may_wait_at_gates(spec: ir.WorkflowSpec) -> bool:
    """Whether a run of ``spec`` may wait for a signal (a gate, or a ``@dynamic`` body that may make one)."""
    return any(isinstance(node, ir.GateNode) and node.gate != "sleep" for node in spec.all_nodes()) or any(
        task.kind == "dynamic" for task in spec.tasks.values()
    )


class GateBridge:
    """Announces run ``run_id``'s waiting gates under ``home`` and delivers their local signals."""

    def __init__(
        self, client: Client, home: Path, *, workflow: str, run_id: str, poll_seconds: float
    ) -> None:
        self.s3: S3Client = client.s3
        self.bucket, self.client, self.home = client.bucket, client, home
        self.workflow, self.run_id, self.poll_seconds = workflow, run_id, poll_seconds
        self._announced: dict[tuple[str, str], ir.GateNode] = {}  # (run or sub-run, signal) -> gate
        self._delivered: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"gates-{run_id[:12]}", daemon=True)

    def __enter__(self) -> GateBridge:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for run, name in self._announced:  # the run ended: nothing waits any more
            self._forget(run, name)
        for run, _ in {*self._announced, *self._delivered}:  # and the folders, once empty
            folder = self.home / ir.protocol.run_prefix(self.workflow, run)
            for empty in (folder / "gates", folder / "signals", folder):
                with contextlib.suppress(OSError):
                    empty.rmdir()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            with contextlib.suppress(Exception):  # a poll that fails is tried again; the run decides
                self.poll()

    def poll(self) -> None:
        """Announce the gates that began waiting; deliver the signals written for announced ones."""
        from stratoflow.client._signals import waiting_gates  # noqa: PLC0415 - boto3's side

        for run, name in waiting_gates(self.s3, self.bucket, self.workflow, self.run_id):
            if (run, name) not in self._announced and (run, name) not in self._delivered:
                self._announce(run, name)
        for run, name in list(self._announced):
            signal = self.home / ir.protocol.signal_key(self.workflow, run, name)
            if signal.is_file():
                self._deliver(run, name, json.loads(signal.read_bytes()))

    def _announce(self, run: str, name: str) -> None:
        from stratoflow.runtime import announce_local_gate  # noqa: PLC0415

        body = self.s3.get_object(
            Bucket=self.bucket, Key=ir.protocol.gate_token_key(self.workflow, run, name)
        )
        record = ir.protocol.GateRecord.model_validate_json(body["Body"].read())
        gate = ir.GateNode.model_validate_json(record.node)
        announce_local_gate(self.home, self.workflow, run, gate)
        self._announced[(run, name)] = gate

    def _deliver(self, run: str, name: str, signal: dict[str, object]) -> None:
        from stratoflow.values import LiteralRef, LocalBlobStore, decode  # noqa: PLC0415

        gate = self._announced.pop((run, name))
        self._delivered.add((run, name))
        self._forget(run, name)
        if gate.gate == "approve":
            self.client.approve(run, name, reject=signal.get("approved") is not True)
            return
        assert gate.type is not None  # noqa: S101 - a wait_for_input gate has its type
        # Decoded from the local store and sent as a client sends it: a File value goes to the bucket.
        literal = LiteralRef.from_json(signal["value"])  # type: ignore[arg-type]
        self.client.signal(run, name, decode(literal, gate.type, LocalBlobStore(self.home)))

    def _forget(self, run: str, name: str) -> None:
        for key in (ir.protocol.gate_token_key, ir.protocol.signal_key):
            (self.home / key(self.workflow, run, name)).unlink(missing_ok=True)
