"""The data bucket's layout and the spec's bytes: part of the wire contract (``stratoflow.ir.protocol``).

Kept apart so the protocol module stays readable; import it as ``protocol``, never from here.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # an annotation only: importing this module must not load pydantic
    from stratoflow.ir._models import WorkflowSpec

__all__ = [
    "BLOBS_PREFIX",
    "DYNAMIC_SPECS_PREFIX",
    "RESERVED_PREFIXES",
    "RUNS_PREFIX",
    "SPECS_PREFIX",
    "blob_key",
    "definition_comment",
    "dynamic_spec_key",
    "inputs_key",
    "map_inputs_key",
    "map_items_key",
    "map_meta_key",
    "map_prefix",
    "map_results_key",
    "map_results_prefix",
    "node_outputs_key",
    "node_outputs_prefix",
    "run_prefix",
    "spec_json_bytes",
    "spec_key",
    "spec_key_in_comment",
    "trigger_prefix",
]


# --- storage: the data bucket's layout ---------------------------------------------------

SPECS_PREFIX: Final = "specs/"
"""Workflow IRs, written by the deployment (content addressed)."""
DYNAMIC_SPECS_PREFIX: Final = "dynamic-specs/"
"""``@dynamic`` sub-workflow IRs, written by the runner at run time (content addressed)."""
RUNS_PREFIX: Final = "runs/"
"""Per-run inputs, node outputs, map items and trigger copies."""
BLOBS_PREFIX: Final = "blobs/"
"""Content-addressed values and files."""

RESERVED_PREFIXES: Final = (RUNS_PREFIX, BLOBS_PREFIX, SPECS_PREFIX, DYNAMIC_SPECS_PREFIX)
"""Every prefix stratoflow itself writes: an S3 trigger on one would start runs in a loop."""


def spec_json_bytes(spec: WorkflowSpec) -> bytes:
    """Canonical JSON of a workflow spec (sorted keys, compact): the bytes whose hash names its key."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()


def _content_key(prefix: str, name: str, body: bytes) -> str:
    return f"{prefix}{name}/{hashlib.sha256(body).hexdigest()[:16]}.json"


_SPEC_IN_COMMENT: Final = re.compile(rf"; spec ({re.escape(SPECS_PREFIX)}\S+\.json)")


def definition_comment(name: str, ref: str, key: str) -> str:
    """A compiled definition's ``Comment``: it names the workflow and its spec key (read back by the CLI)."""
    return f"stratoflow workflow {name} ({ref}); spec {key}"


def spec_key_in_comment(comment: str) -> str | None:
    """The spec key a definition's :func:`definition_comment` names, if any."""
    found = _SPEC_IN_COMMENT.search(comment)
    return found.group(1) if found else None


def spec_key(name: str, body: bytes) -> str:
    """Where a deployed workflow's IR ``body`` lives: ``specs/<name>/<sha256[:16]>.json``."""
    return _content_key(SPECS_PREFIX, name, body)


def dynamic_spec_key(name: str, body: bytes) -> str:
    """Where a ``@dynamic`` sub-workflow's IR lives: ``dynamic-specs/<name>/<sha256[:16]>.json``."""
    return _content_key(DYNAMIC_SPECS_PREFIX, name, body)


def blob_key(digest: str, prefix: str = BLOBS_PREFIX) -> str:
    """Where the blob with SHA-256 ``digest`` lives (fanned out by its first two hex digits)."""
    return f"{prefix}{digest[:2]}/{digest}"


def run_prefix(run_id: str) -> str:
    """Where one execution keeps its inputs and node outputs."""
    return f"{RUNS_PREFIX}{run_id}/"


def inputs_key(run_id: str) -> str:
    """The run's workflow inputs."""
    return f"{run_prefix(run_id)}inputs.json"


def node_outputs_prefix(run_id: str) -> str:
    """Where the run's node outputs are (one object per completed node)."""
    return f"{run_prefix(run_id)}nodes/"


def node_outputs_key(run_id: str, node_id: str) -> str:
    """One node's outputs in one run."""
    return f"{node_outputs_prefix(run_id)}{node_id}.json"


def trigger_prefix(run_id: str) -> str:
    """Where a triggered run's pinned copy of the triggering object is."""
    return f"{run_prefix(run_id)}trigger/"


def map_prefix(run_id: str, node_id: str) -> str:
    """Everything one map node keeps in one run."""
    return f"{run_prefix(run_id)}maps/{node_id}/"


def map_items_key(run_id: str, node_id: str) -> str:
    """The item index list a Distributed Map's ItemReader reads (``map_prepare`` writes it)."""
    return f"{map_prefix(run_id, node_id)}items.json"


def map_meta_key(run_id: str, node_id: str) -> str:
    """A map node's item count and chunk size."""
    return f"{map_prefix(run_id, node_id)}meta.json"


def map_inputs_key(run_id: str, node_id: str, chunk: int) -> str:
    """One chunk of a map node's per-item inputs."""
    return f"{map_prefix(run_id, node_id)}in/{chunk}.json"


def map_results_prefix(run_id: str, node_id: str) -> str:
    """Where a map node's per-batch results are."""
    return f"{map_prefix(run_id, node_id)}out/"


def map_results_key(run_id: str, node_id: str, first_index: int) -> str:
    """One batch's results, named by its first item index."""
    return f"{map_results_prefix(run_id, node_id)}{first_index}.json"
