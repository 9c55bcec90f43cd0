"""Local recovery (``stratoflow recover RUN``): a new run of a failed local run, reusing what succeeded.

A failed local run leaves a snapshot in the home (:func:`save_snapshot`, under
``_storage.local_run_snapshot_key``): its IR, its input literals, the outputs of every node that
finished and the results of every map item. :func:`recover_local` runs the same IR on the same inputs
with a :class:`~stratoflow.runtime.Recovery` of them: those nodes and items are reused (cached or not,
their functions are not called again) and the rest runs with the code as it is now.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratoflow import ir, values
from stratoflow.errors import ConfigError
from stratoflow.ir import _storage
from stratoflow.runtime import InMemoryOutputStore, LocalRunStorage, NodeContext, Recovery
from stratoflow.values import LiteralRef, LocalBlobStore

__all__ = ["Snapshot", "current_spec", "load_snapshot", "save_snapshot"]

_log = logging.getLogger("stratoflow.local")


@dataclass(frozen=True)
class Snapshot:
    """What a failed local run left to recover from."""

    run_id: str
    spec: ir.WorkflowSpec
    inputs: dict[str, LiteralRef]
    recovery: Recovery
    workdir: Path
    """The folder the run started in: the spec's source paths are relative to it."""

    def workflow_file(self) -> Path:
        """The workflow's source file, as the failed run found it."""
        return self.workdir / self.spec.location.path

    def decoded_inputs(self, home: Path) -> dict[str, Any]:
        """The run's inputs as Python values (re-encoding them gives the same literals)."""
        blobs = LocalBlobStore(home)
        types = {v.name: v.type for v in self.spec.inputs}
        return {name: values.decode(lit, types[name], blobs) for name, lit in self.inputs.items()}


def save_snapshot(ctx: NodeContext, inputs: dict[str, LiteralRef]) -> None:
    """Keep a failed run's IR, inputs, finished nodes and map item results in its home (best effort:
    a snapshot that cannot be written is logged, never the run's error)."""
    if not isinstance(ctx.outputs, InMemoryOutputStore) or not isinstance(ctx.storage, LocalRunStorage):
        return
    try:
        _write_snapshot(ctx, ctx.outputs, ctx.storage, inputs)
    except (OSError, ValueError, TypeError) as exc:
        _log.warning("run %s cannot be recovered: its snapshot was not written: %s", ctx.run_id, exc)


def _write_snapshot(
    ctx: NodeContext, outputs: InMemoryOutputStore, storage: LocalRunStorage, inputs: dict[str, LiteralRef]
) -> None:
    nodes, maps = outputs.finished()
    recovery = Recovery.of(ctx.run_id, nodes, maps)
    body = {
        "run": ctx.run_id,
        "spec": json.loads(_storage.spec_json_bytes(ctx.spec)),
        "inputs": {name: lit.to_json() for name, lit in inputs.items()},
        "recovery": json.loads(recovery.to_json()),
        "workdir": str(Path.cwd()),
    }
    storage.put(
        _storage.local_run_snapshot_key(ctx.workflow, ctx.run_id), json.dumps(body, sort_keys=True).encode()
    )


def load_snapshot(home: Path, workflow: str, run_id: str) -> Snapshot:
    """The snapshot of failed run ``run_id`` of ``workflow`` in ``home``; a ConfigError when it left none."""
    data = LocalRunStorage(home).get(_storage.local_run_snapshot_key(workflow, run_id))
    if data is None:
        raise ConfigError(
            f"run {run_id} cannot be recovered: it left no snapshot under {home} (only failed local runs do)"
        )
    raw = json.loads(data)
    return Snapshot(
        run_id=run_id,
        spec=ir.WorkflowSpec.model_validate(raw["spec"]),
        inputs={name: LiteralRef.from_json(lit) for name, lit in raw["inputs"].items()},
        recovery=Recovery.from_json(json.dumps(raw["recovery"]).encode()),
        workdir=Path(raw.get("workdir") or Path.cwd()),
    )


def current_spec(snapshot: Snapshot) -> ir.WorkflowSpec:
    """The workflow's IR as its code is now, when it is importable and has the same nodes (so the fix's
    cache versions and code apply); otherwise the failed run's own IR."""
    from stratoflow.define import WorkflowDef  # noqa: PLC0415 - only when recovering
    from stratoflow.lower import lower  # noqa: PLC0415

    try:
        found = values.resolve_class(snapshot.spec.ref)
    except Exception:  # noqa: BLE001 - not importable here: the snapshot's IR still runs
        return snapshot.spec
    if not isinstance(found, WorkflowDef):
        return snapshot.spec
    now = lower(found)
    same = {n.id for n in now.all_nodes()} == {n.id for n in snapshot.spec.all_nodes()}
    return now if same and now.inputs == snapshot.spec.inputs else snapshot.spec
