"""Running a scope's nodes in dependency order: on the calling thread, spreading over more
threads only when a node stalls.

Handing every node to a pool thread and back costs more than a small node itself: a
``@dynamic`` of a thousand one-line tasks spent most of its time moving nodes between threads
and waiting for the GIL. So the calling thread runs ready nodes one after another, and a watchdog
looks every :data:`STALL_SECONDS` whether the run has made progress: when no node has started or
finished since and nodes are waiting, it starts helper threads (up to the run's workers), which
take waiting nodes from the same queue. Nodes that sleep, wait on I/O or release the GIL (what
parallel threads help) still run side by side, a few milliseconds later; a thousand quick nodes
never leave the calling thread. The map runner spreads its items by the same idea
(``_map._spread_when_slow``).

Failure: the first error stops the scope from readying more nodes (unless ``keep_going``, where
only the failed node's dependents never run); nodes already ready when it failed still run, as
they did when every ready node was handed to the pool at once; nodes running finish.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping

__all__ = ["STALL_SECONDS", "run_in_order"]

STALL_SECONDS = 0.02
"""How long the run may go without a node starting or finishing before waiting nodes get threads."""


class _Run:
    def __init__(
        self,
        upstream: Mapping[str, Iterable[str]],
        execute: Callable[[str], None],
        *,
        workers: int,
        keep_going: bool,
        on_done: Callable[[str], None],
    ) -> None:
        self._execute = execute
        self._workers = max(1, workers)
        self._keep_going = keep_going
        self._on_done = on_done
        self._waiting = dict.fromkeys(upstream, 0)
        self._dependents: dict[str, list[str]] = {node: [] for node in upstream}
        for node, ups in upstream.items():
            for up in ups:
                self._waiting[node] += 1
                self._dependents[up].append(node)
        self._ready = deque(node for node, count in self._waiting.items() if count == 0)
        self._cond = threading.Condition()
        self._busy = 0  # threads running a node
        self._idle = 0  # threads waiting for a node to become ready
        self._threads: list[threading.Thread] = []
        self._last_event = time.monotonic()
        self._stop = threading.Event()  # set when the scope is done: the watchdog's sleep ends
        self._watchdog: threading.Thread | None = None
        self.started: set[str] = set()
        self.failure: BaseException | None = None

    def _take(self) -> str | None:
        """The next node for this thread (None: the scope is done); the caller holds the lock."""
        while not self._ready and self._busy > 0:
            self._idle += 1
            self._cond.wait()
            self._idle -= 1
        if not self._ready:
            self._stop.set()
            self._cond.notify_all()
            return None
        node = self._ready.popleft()
        self._busy += 1
        self.started.add(node)
        self._last_event = time.monotonic()
        if self._ready and self._watchdog is None and self._workers > 1:
            self._watchdog = threading.Thread(target=self._watch, name="stratoflow-spread", daemon=True)
            self._watchdog.start()
        return node

    def _finish(self, node: str, error: BaseException | None) -> None:
        """Record a node's end, ready its dependents; the caller holds the lock."""
        self._busy -= 1
        self._last_event = time.monotonic()
        if error is not None:
            self.failure = self.failure or error
        else:
            self._on_done(node)
            if self.failure is None or self._keep_going:
                for child in self._dependents[node]:
                    self._waiting[child] -= 1
                    if self._waiting[child] == 0:
                        self._ready.append(child)
        if self._idle and (self._ready or self._busy == 0):
            self._cond.notify_all()

    def work(self, *, caller: bool) -> None:
        """Run nodes until the scope is done (a helper thread's loop, and the calling thread's)."""
        with self._cond:
            node = self._take()
        while node is not None:
            try:
                self._execute(node)
            except Exception as exc:  # noqa: BLE001 - the scope's failure, raised once every thread is done
                error: BaseException | None = exc
            except BaseException as exc:  # an interrupt: on the calling thread it propagates at once
                if caller:
                    with self._cond:
                        self.failure = self.failure or exc
                        self._ready.clear()
                        self._finish(node, exc)
                    raise
                error = exc
            else:
                error = None
            with self._cond:
                self._finish(node, error)
                node = self._take()

    def _watch(self) -> None:
        while not self._stop.wait(STALL_SECONDS):
            with self._cond:
                if self._idle or not self._ready:
                    continue
                if time.monotonic() - self._last_event < STALL_SECONDS:
                    continue
                room = self._workers - 1 - len(self._threads)
                for _ in range(min(room, len(self._ready))):
                    helper = threading.Thread(
                        target=self.work, kwargs={"caller": False}, name="stratoflow", daemon=True
                    )
                    self._threads.append(helper)
                    helper.start()
                if room <= 0:
                    return

    def join(self) -> None:
        self._stop.set()
        with self._cond:
            helpers = list(self._threads)
        for helper in helpers:
            helper.join()


def run_in_order(
    upstream: Mapping[str, Iterable[str]],
    execute: Callable[[str], None],
    *,
    workers: int,
    keep_going: bool = False,
    on_done: Callable[[str], None] = lambda node: None,
) -> tuple[set[str], BaseException | None]:
    """Run every node of ``upstream`` (node -> the nodes it waits for, all within the mapping)
    with ``execute``, each once all its upstream nodes succeeded; ``on_done`` is called (one call
    at a time) as each succeeds. Returns the nodes started and the first failure (None: all ran)."""
    run = _Run(upstream, execute, workers=workers, keep_going=keep_going, on_done=on_done)
    try:
        run.work(caller=True)
    finally:
        run.join()
    return run.started, run.failure
