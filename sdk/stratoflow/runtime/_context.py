"""What the runner runs nodes against: the execution's stores, and one task's cache policy.

:class:`NodeCache` is the one place that says whether a task is cached in a context, what
its key is, what counts as a hit (an entry whose blobs are all still there) and when a
result is remembered (only a finished, not abandoned, attempt); every cache site uses it.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from stratoflow import ir
from stratoflow.cache import CacheEntry, CacheEntryError, CacheStore, cache_key
from stratoflow.define import RunStorage, SecretsManager, SecretStore
from stratoflow.ir import _storage  # not protocol: a local run loads no pydantic wire models
from stratoflow.runtime._outputs import OutputStore
from stratoflow.runtime._recovery import Recovery
from stratoflow.values import BlobStore, LiteralRef, literal_problem

__all__ = ["NodeCache", "NodeContext"]


class NodeContext:
    """What the runner needs to run nodes of one execution.

    A plain class, not a dataclass: it is defined in every process that runs a node, where a
    dataclass's generated methods take about half a millisecond to define.
    """

    __slots__ = (
        "blobs",
        "cache",
        "cancelled",
        "outputs",
        "recovery",
        "run_id",
        "secret_store",
        "spec",
        "storage",
        "use_cache",
        "workflow",
    )

    def __init__(
        self,
        *,
        run_id: str,
        spec: ir.WorkflowSpec,
        blobs: BlobStore,
        outputs: OutputStore,
        cache: CacheStore | None = None,
        use_cache: bool = True,
        storage: RunStorage | None = None,
        cancelled: threading.Event | None = None,
        workflow: str = "",
        secret_store: SecretStore | None = None,
        recovery: Recovery | None = None,
    ) -> None:
        self.run_id = run_id
        self.spec = spec
        self.blobs = blobs
        self.outputs = outputs
        self.cache = cache
        self.use_cache = use_cache
        # Where current_context().checkpoint keeps this run's checkpoints (None: no checkpoints).
        self.storage = storage
        # Set when an attempt is abandoned (timeout): it must then write nothing.
        self.cancelled = threading.Event() if cancelled is None else cancelled
        # The deployed workflow this run belongs to (a @dynamic sub-run: its parent's): its objects
        # and cache entries are that workflow's (protocol.run_prefix, protocol.cache_item_key).
        # Empty: the spec's own name.
        self.workflow = workflow or spec.name
        # Where requested secrets are fetched at run time (Secrets Manager on Lambda); None: the
        # environment and the local secrets folder only.
        self.secret_store = secret_store
        # A recovered run: what it reuses from the failed run instead of running it.
        self.recovery = recovery

    def abandonable(self) -> NodeContext:
        """This context with its own ``cancelled`` event: one attempt that a timeout may abandon."""
        attempt = copy.copy(self)  # every other field shared, as the run's
        attempt.cancelled = threading.Event()
        return attempt

    def secrets(self, task: ir.TaskSpec) -> SecretsManager:
        """What ``current_context().secrets`` reads in one attempt of ``task``."""
        return SecretsManager(requests=task.secrets, store=self.secret_store)

    def node_cache(self, task: ir.TaskSpec) -> NodeCache:
        """``task``'s cache in this context (disabled when the task, the run or the store says so)."""
        store = self.cache if task.cache.enabled and self.use_cache else None
        return NodeCache(
            task=task, store=store, blobs=self.blobs, cancelled=self.cancelled, workflow=self.workflow
        )


# A NamedTuple, not a frozen dataclass: made for every map item, and cheaper to make.
class NodeCache(NamedTuple):
    """One task's cache in one context: its key, lookup, and remember."""

    task: ir.TaskSpec
    store: CacheStore | None
    blobs: BlobStore
    cancelled: threading.Event
    workflow: str

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def key(self, inputs: Mapping[str, LiteralRef]) -> str | None:
        """The cache key of a run on ``inputs``; ``None`` when caching is off."""
        if self.store is None:
            return None
        key = cache_key(self.task, {name: lit.hash for name, lit in inputs.items()})
        return _storage.cache_item_key(self.workflow, key)

    def lookup(self, key: str | None) -> dict[str, LiteralRef] | None:
        """The cached outputs under ``key``, or ``None``.

        An entry that cannot be decoded, has the wrong shape, was written for another task or
        version, holds a value whose hash does not match, or names a missing or corrupted blob is a
        miss: it is logged once and deleted, so the recomputed result replaces it.
        """
        if key is None or self.store is None:
            return None
        try:
            entry: CacheEntry | CacheEntryError | None = self.store.get(key)
        except CacheEntryError as exc:
            entry = exc
        return None if entry is None else self._usable(key, entry)

    def lookup_many(self, keys: Sequence[str]) -> dict[str, dict[str, LiteralRef]]:
        """:meth:`lookup` of every key at once (one store read for many); the hits only."""
        if self.store is None or not keys:
            return {}
        found = self.store.get_many(keys)
        usable = {key: self._usable(key, entry) for key, entry in found.items()}
        return {key: outputs for key, outputs in usable.items() if outputs is not None}

    def _usable(self, key: str, entry: CacheEntry | CacheEntryError) -> dict[str, LiteralRef] | None:
        problem = str(entry) if isinstance(entry, CacheEntryError) else self._problem(entry)
        if problem is None:
            assert isinstance(entry, CacheEntry)  # noqa: S101 - only an entry has no problem
            return entry.outputs
        import logging  # noqa: PLC0415 - only an unusable entry logs: a plain run never loads it

        logging.getLogger("stratoflow.cache").warning(
            "cache entry %s of task '%s' is unusable, recomputing: %s", key, self.task.name, problem
        )
        assert self.store is not None  # noqa: S101 - an entry came from it
        self.store.delete(key)
        return None

    def _problem(self, entry: CacheEntry) -> str | None:
        if (entry.task, entry.version) != (self.task.ref, self.task.cache.version):
            return f"written for {entry.task} version {entry.version!r}"
        names = [v.name for v in self.task.outputs]
        if entry.outputs.keys() != set(names):  # a set, not sorted lists: checked for every hit
            return f"its outputs are {sorted(entry.outputs)}, not {sorted(names)}"
        for variable in self.task.outputs:
            problem = literal_problem(entry.outputs[variable.name], variable.type, self.blobs)
            if problem is not None:
                return f"output '{variable.name}': {problem}"
        return None

    def remember(self, key: str | None, outputs: dict[str, LiteralRef]) -> None:
        """Cache a successful result (never one of an abandoned, timed-out attempt)."""
        if key is None or self.store is None or self.cancelled.is_set():
            return
        entry = CacheEntry(
            task=self.task.ref, version=self.task.cache.version, outputs=outputs, created=time.time()
        )
        self.store.put(key, entry)
