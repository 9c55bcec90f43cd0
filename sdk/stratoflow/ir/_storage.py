"""The data bucket's layout and the spec's bytes: part of the wire contract (``stratoflow.ir.protocol``).

Kept apart so the protocol module stays readable; import it as ``protocol``, never from here.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Final

from stratoflow.ir._names import (
    BLOBS_PREFIX,
    DYNAMIC_SPECS_PREFIX,
    RUNS_PREFIX,
    SPECS_PREFIX,
)

if TYPE_CHECKING:  # an annotation only: importing this module must not load pydantic
    from stratoflow.ir._models import WorkflowSpec

__all__ = [
    "RUN_ID_MAX",
    "SCHEDULED_PLAN_NAME_MAX",
    "blob_digest",
    "blob_key",
    "cache_item_key",
    "cache_items_pattern",
    "checkpoint_attempt",
    "checkpoint_key",
    "checkpoints_prefix",
    "container_error_key",
    "deck_key",
    "definition_comment",
    "dynamic_run_key",
    "dynamic_spec_key",
    "dynamic_specs_prefix",
    "inputs_key",
    "local_run_snapshot_key",
    "map_inputs_key",
    "map_items_key",
    "map_meta_key",
    "map_prefix",
    "map_results_key",
    "map_results_prefix",
    "node_outputs_key",
    "node_outputs_prefix",
    "plan_run_prefix",
    "raw_output_prefix",
    "recovery_key",
    "run_id_problem",
    "run_options_key",
    "run_prefix",
    "scheduled_run_id",
    "spec_digest_ok",
    "spec_json_bytes",
    "spec_key",
    "spec_key_in_comment",
    "spec_key_prefix",
    "spec_workflow",
    "trigger_prefix",
    "workflow_runs_prefix",
]


# --- storage: the data bucket's layout ---------------------------------------------------


def spec_json_bytes(spec: WorkflowSpec) -> bytes:
    """Canonical JSON of a workflow spec (sorted keys, compact): the bytes whose hash names its key."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()


_SPEC_DIGEST_CHARS: Final = 16


def _content_key(prefix: str, name: str, body: bytes) -> str:
    return f"{prefix}{name}/{hashlib.sha256(body).hexdigest()[:_SPEC_DIGEST_CHARS]}.json"


_NAME: Final = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_DIGEST: Final = rf"([0-9a-f]{{{_SPEC_DIGEST_CHARS}}})\.json$"
# Patterns are kept as text: ``re`` compiles each on first use (and caches it), not at import.
# A deployed spec: specs/<workflow>/<digest>.json; a @dynamic sub-spec names the workflow whose
# runner planned it first: dynamic-specs/<workflow>/<name>/<digest>.json.
_SPEC_KEYS: Final = (
    (SPECS_PREFIX, rf"^{re.escape(SPECS_PREFIX)}({_NAME})/{_DIGEST}"),
    (DYNAMIC_SPECS_PREFIX, rf"^{re.escape(DYNAMIC_SPECS_PREFIX)}({_NAME})/{_NAME}/{_DIGEST}"),
)


def _spec_match(key: str) -> tuple[str, re.Match[str]] | None:
    if ".." in key:
        return None
    for prefix, pattern in _SPEC_KEYS:
        found = re.match(pattern, key)
        if found:
            return prefix, found
    return None


def spec_key_prefix(key: str) -> str | None:
    """The prefix (``SPECS_PREFIX`` or ``DYNAMIC_SPECS_PREFIX``) of a well-formed, hash-named spec key;
    ``None`` for any other key (the runner reads nothing else)."""
    found = _spec_match(key)
    return found[0] if found else None


def spec_workflow(key: str) -> str | None:
    """The workflow a well-formed spec key belongs to (``specs/<workflow>/...``,
    ``dynamic-specs/<workflow>/...``), else ``None``.

    A run's objects live under that workflow's prefix (:func:`run_prefix`). Each workflow's runner
    may read only its own workflow's specs, so the workflow it reads from the key is its own.

    Example:
        >>> spec_workflow("specs/etl/0123456789abcdef.json")
        'etl'
    """
    found = _spec_match(key)
    return found[1].group(1) if found else None


def spec_digest_ok(key: str, body: bytes) -> bool:
    """Whether ``body`` is the spec its hash-named ``key`` names (its sha256 prefix matches)."""
    found = _spec_match(key)
    return found is not None and hashlib.sha256(body).hexdigest()[:_SPEC_DIGEST_CHARS] == found[1].group(2)


_SPEC_IN_COMMENT: Final = rf"; spec ({re.escape(SPECS_PREFIX)}\S+\.json)"


def definition_comment(name: str, ref: str, key: str) -> str:
    """A compiled definition's ``Comment``: it names the workflow and its spec key (read back by the CLI)."""
    return f"stratoflow workflow {name} ({ref}); spec {key}"


def spec_key_in_comment(comment: str) -> str | None:
    """The spec key a definition's :func:`definition_comment` names, if any."""
    found = re.search(_SPEC_IN_COMMENT, comment)
    return found.group(1) if found else None


def spec_key(name: str, body: bytes) -> str:
    """Where a deployed workflow's IR ``body`` lives: ``specs/<name>/<sha256[:16]>.json``."""
    return _content_key(SPECS_PREFIX, name, body)


def dynamic_spec_key(workflow: str, name: str, body: bytes) -> str:
    """Where a ``@dynamic`` sub-workflow's IR, planned by a run of ``workflow``, lives:
    ``dynamic-specs/<workflow>/<name>/<sha256[:16]>.json`` (under its workflow, as its runs are)."""
    return _content_key(dynamic_specs_prefix(workflow), name, body)


def dynamic_specs_prefix(workflow: str) -> str:
    """Where the ``@dynamic`` sub-workflow IRs runs of ``workflow`` plan live."""
    return f"{DYNAMIC_SPECS_PREFIX}{workflow}/"


def cache_item_key(workflow: str, key: str) -> str:
    """The cache table's (and the local cache's) key of cache key ``key`` for tasks of ``workflow``.

    Entries are kept per workflow: it leads with the workflow, so a workflow's roles can be
    limited to their own items (``dynamodb:LeadingKeys``) and one workflow cannot plant an entry
    another would trust. Unlike Flyte, two workflows running the same task do not share results.
    """
    return f"{workflow}/{key}"


def cache_items_pattern(workflow: str) -> str:
    """The ``StringLike`` pattern every :func:`cache_item_key` of ``workflow`` matches."""
    return f"{workflow}/*"


def blob_key(digest: str, prefix: str = BLOBS_PREFIX) -> str:
    """Where the blob with SHA-256 ``digest`` lives (fanned out by its first two hex digits)."""
    return f"{prefix}{digest[:2]}/{digest}"


_BLOB_NAME: Final = r"(?:^|/)([0-9a-f]{2})/([0-9a-f]{64})$"


def blob_digest(uri: str) -> str | None:
    """The SHA-256 a content-addressed blob's URI, key or path names (``.../<d[:2]>/<d>``), else ``None``.

    Every reader checks the bytes it gets against it, so a changed blob is never served.
    """
    found = re.search(_BLOB_NAME, uri)
    if found is None or found.group(2)[:2] != found.group(1):
        return None
    return found.group(2)


RUN_ID_MAX: Final = 80
"""Step Functions' limit on an execution name, which is a run's id."""
_RUN_ID: Final = rf"^[A-Za-z0-9_-]{{1,{RUN_ID_MAX}}}$"


def run_id_problem(run_id: str) -> str | None:
    """What is wrong with a caller-chosen run id (an execution name and an S3 key segment), or ``None``."""
    if re.match(_RUN_ID, run_id):
        return None
    return (
        f"run_id {run_id!r:.100} must be 1-{RUN_ID_MAX} characters of letters, digits, '-' and '_' "
        f"(a Step Functions execution name and a key under {RUNS_PREFIX})"
    )


def workflow_runs_prefix(workflow: str) -> str:
    """Where every run of ``workflow`` keeps its objects: ``runs/<workflow>/``.

    The unit of least privilege: a workflow's roles may write only under their own workflow's
    prefix (and the shared, content-addressed blobs), so one workflow's tasks cannot change
    another's runs.
    """
    return f"{RUNS_PREFIX}{workflow}/"


def run_prefix(workflow: str, run_id: str) -> str:
    """Where one execution of ``workflow`` keeps its inputs and node outputs: ``runs/<workflow>/<run>/``."""
    return f"{workflow_runs_prefix(workflow)}{run_id}/"


def inputs_key(workflow: str, run_id: str) -> str:
    """The run's workflow inputs."""
    return f"{run_prefix(workflow, run_id)}inputs.json"


def recovery_key(workflow: str, run_id: str) -> str:
    """What a recovered run reuses from the failed one (``runtime.Recovery``), written before it starts."""
    return f"{run_prefix(workflow, run_id)}recovery.json"


def run_options_key(workflow: str, run_id: str) -> str:
    """The options a client gave the run (``ExecutionOptions``), written before it starts; absent
    for a run with the defaults."""
    return f"{run_prefix(workflow, run_id)}options.json"


def local_run_snapshot_key(workflow: str, run_id: str) -> str:
    """A local run's spec, inputs, finished nodes and map items, kept in the home so it can be recovered."""
    return f"{run_prefix(workflow, run_id)}snapshot.json"


def node_outputs_prefix(workflow: str, run_id: str) -> str:
    """Where the run's node outputs are (one object per completed node)."""
    return f"{run_prefix(workflow, run_id)}nodes/"


def node_outputs_key(workflow: str, run_id: str, node_id: str) -> str:
    """One node's outputs in one run."""
    return f"{node_outputs_prefix(workflow, run_id)}{node_id}.json"


def dynamic_run_key(workflow: str, run_id: str) -> str:
    """A ``@dynamic`` sub-run's record (parent, node, spec key), written by the runner that planned it:
    the interpreter's events are accepted only for a sub-run and sub-spec so recorded."""
    return f"{run_prefix(workflow, run_id)}dynamic.json"


def trigger_prefix(workflow: str, run_id: str) -> str:
    """Where a triggered run's pinned copy of the triggering object is."""
    return f"{run_prefix(workflow, run_id)}trigger/"


def map_prefix(workflow: str, run_id: str, node_id: str) -> str:
    """Everything one map node keeps in one run."""
    return f"{run_prefix(workflow, run_id)}maps/{node_id}/"


def map_items_key(workflow: str, run_id: str, node_id: str) -> str:
    """The item index list a Distributed Map's ItemReader reads (``map_prepare`` writes it)."""
    return f"{map_prefix(workflow, run_id, node_id)}items.json"


def map_meta_key(workflow: str, run_id: str, node_id: str) -> str:
    """A map node's item count and chunk size."""
    return f"{map_prefix(workflow, run_id, node_id)}meta.json"


def map_inputs_key(workflow: str, run_id: str, node_id: str, chunk: int) -> str:
    """One chunk of a map node's per-item inputs."""
    return f"{map_prefix(workflow, run_id, node_id)}in/{chunk}.json"


def map_results_prefix(workflow: str, run_id: str, node_id: str) -> str:
    """Where a map node's per-batch results are."""
    return f"{map_prefix(workflow, run_id, node_id)}out/"


def map_results_key(workflow: str, run_id: str, node_id: str, first_index: int) -> str:
    """One batch's results, named by its first item index."""
    return f"{map_results_prefix(workflow, run_id, node_id)}{first_index}.json"


def container_error_key(workflow: str, run_id: str, node: str) -> str:
    """Where a container records why its node failed (a :class:`FailureCause` as JSON).

    ECS and Batch report a failed container by its exit code only, so the client reads the
    user's exception from here when it reports the failed execution.
    """
    return f"{run_prefix(workflow, run_id)}errors/{node}.json"


_PLAN_UNSAFE: Final = r"[^A-Za-z0-9_-]"
SCHEDULED_PLAN_NAME_MAX: Final = 56
"""Characters of a plan's name kept in its runs' ids (with ``-`` and the 16-character stamp, and
8 hex of the name's hash when it is cut or changed, under ``RUN_ID_MAX``)."""


def plan_run_prefix(plan: str) -> str:
    """What the ids of the runs a plan starts begin with (``<plan>-``, cleaned and cut as
    :func:`scheduled_run_id` says): the plan's notification rule matches execution names by it."""
    safe = re.sub(_PLAN_UNSAFE, "-", plan)
    if safe != plan or len(safe) > SCHEDULED_PLAN_NAME_MAX:
        digest = hashlib.sha256(plan.encode()).hexdigest()[:8]
        safe = f"{safe[: SCHEDULED_PLAN_NAME_MAX - 9]}-{digest}"
    return f"{safe}-"


def scheduled_run_id(plan: str, scheduled_time: str) -> str:
    """The run id of the run a schedule starts for ``plan`` at ``scheduled_time`` (ISO 8601).

    ``<plan>-<YYYYMMDDTHHMMSSZ>``: the same for every delivery of one occurrence (Scheduler
    retries carry its scheduled time), so a duplicate finds the execution taken. A plan name
    with characters an execution name may not have, or longer than ``SCHEDULED_PLAN_NAME_MAX``,
    is cleaned and cut, and 8 hex of its hash keep two such names apart.

    Example:
        >>> scheduled_run_id("nightly_report", "2026-12-01T03:00:00Z")
        'nightly_report-20261201T030000Z'
    """
    stamp = re.sub(r"[^0-9T]", "", scheduled_time.replace("+00:00", "").removesuffix("Z"))[:15]
    return f"{plan_run_prefix(plan)}{stamp}Z"


def checkpoints_prefix(workflow: str, run_id: str, node: str) -> str:
    """Where the attempts of one node (a map item's label: ``node[3]``) keep their checkpoints."""
    return f"{run_prefix(workflow, run_id)}checkpoints/{node}/"


def checkpoint_key(workflow: str, run_id: str, node: str, attempt: int) -> str:
    """The checkpoint attempt ``attempt`` of ``node`` wrote (``current_context().checkpoint``): a tar
    of the files it saved. The next attempt of the same node reads the latest earlier one."""
    return f"{checkpoints_prefix(workflow, run_id, node)}{attempt}.tar"


_CHECKPOINT_NAME: Final = r"/([1-9][0-9]*)\.tar$"


def checkpoint_attempt(key: str) -> int | None:
    """The attempt a :func:`checkpoint_key` names, else ``None``."""
    found = re.search(_CHECKPOINT_NAME, key)
    return int(found.group(1)) if found else None


def raw_output_prefix(workflow: str, run_id: str) -> str:
    """The run's ``raw_output_prefix`` (Flyte's): a prefix under the run a task may write to itself."""
    return f"{run_prefix(workflow, run_id)}raw/"


def deck_key(workflow: str, run_id: str, node: str) -> str:
    """Where a node's deck page is (``@task(enable_deck=True)``: its ``Deck``s as one HTML file);
    a map item's is its label's (``node[3]``). The latest successful attempt's replaces the others."""
    return f"{run_prefix(workflow, run_id)}decks/{node}.html"
