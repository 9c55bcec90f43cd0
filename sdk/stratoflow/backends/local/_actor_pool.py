"""The worker processes of a run's actor environments: start, reuse, expire, stop.

Per run and environment (an environment is its name), at most ``replica_count`` workers. They
start lazily, when a task needs a worker and every running one is busy; a free worker is the
most recently used one (so under light load the others go idle and expire). A worker idle for
``ttl_seconds`` is stopped by the pool's reaper thread; the next task starts a new one. Every
worker stops when the run ends (``ActorPool.close``). ``ActorStats`` counts what happened.

Workers come from multiprocessing's forkserver (spawn where there is none, on Windows), never
from a fork of this process: the executor runs on threads, and forking a threaded process can
deadlock the child. The forkserver is a single-threaded process that preloads the worker module,
so a worker starts in milliseconds instead of the ~0.5 s a spawned interpreter takes to import
stratoflow (only the first worker of the process pays that). A worker inherits no other worker's
pipe, so its death is an end-of-file on its own pipe at once; it gets this process's environment
variables as they are when it starts (a forkserver's would be those of when the server started);
it is not a daemon, so a task may start processes of its own.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from stratoflow import ir
from stratoflow.errors import ExecutionError

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["ActorPool", "ActorStats", "Environment", "Worker", "WorkerLostError", "worker_start_context"]

_START_SECONDS: Final = 120.0  # a spawned worker imports stratoflow; a loaded machine may be slow
_STOP_SECONDS: Final = 5.0  # for a worker to leave its loop once its pipe closes
# "__main__" is multiprocessing's own default entry; the worker module is what makes starts cheap.
_PRELOAD: Final = ("__main__", "stratoflow.backends.local._actor_worker")


def worker_start_context() -> BaseContext:
    """Where workers start: the forkserver (preloading the worker module), else spawn."""
    import multiprocessing  # noqa: PLC0415 - loaded by runs that start an actor worker, not by every run

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Read when the process's forkserver starts, so only the first call matters.
        context.set_forkserver_preload(list(_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


@dataclass
class ActorStats:
    """What one environment's workers did in a run (``LocalRun.actors[name]``)."""

    starts: int = 0
    pids: list[int] = field(default_factory=list)  # of every worker started, in order
    lost: int = 0  # workers that died (killed, crashed), under a task or idle
    expired: int = 0  # workers stopped after ``ttl_seconds`` idle


class WorkerLostError(Exception):
    """The worker process died (or its pipe broke) while it held a request; ``why`` says how."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self, context: BaseContext, home: str, use_cache: bool, name: str, overwrite_cache: bool = False
    ) -> None:
        from stratoflow.backends.local._actor_worker import serve  # noqa: PLC0415 - with the first worker

        ours, theirs = context.Pipe(duplex=True)
        self.process = context.Process(  # type: ignore[attr-defined]
            target=serve,
            args=(theirs, home, use_cache, dict(os.environ), overwrite_cache),
            name=f"stratoflow-actor-{name}",
        )
        # Not a daemon: a task may start processes of its own. The run stops every worker.
        self.process.start()
        theirs.close()  # only the worker holds its end now: its death is an EOF here
        self.conn = ours
        self.pid: int = self.process.pid
        self.idle_since = time.monotonic()
        try:
            ready = self.receive(_START_SECONDS)
        except WorkerLostError as lost:
            raise ExecutionError(
                f"actor worker of environment '{name}' could not start ({lost.why})"
            ) from None
        if ready is None:
            self.kill()
            raise ExecutionError(f"actor worker of environment '{name}' did not start in {_START_SECONDS:g}s")

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def send(self, request: bytes) -> None:
        try:
            self.conn.send_bytes(request)
        except OSError as exc:
            raise WorkerLostError(self.death()) from exc

    def receive(self, timeout: float | None = None) -> bytes | None:
        """The next reply, or None when ``timeout`` passes first."""
        try:
            if timeout is not None and not self.conn.poll(timeout):
                return None
            return self.conn.recv_bytes()
        except (EOFError, OSError) as exc:
            raise WorkerLostError(self.death()) from exc

    def death(self) -> str:
        import signal  # noqa: PLC0415 - only to name the signal that killed a worker

        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:
            return "its pipe broke"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def stop(self) -> None:
        """Let the worker finish: closing the pipe ends its loop; a worker that hangs is killed."""
        self.conn.close()
        self.process.join(_STOP_SECONDS)
        if self.process.is_alive():
            self.kill()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class Environment:
    """One environment's workers in one run: at most ``replica_count``, each busy or idle."""

    def __init__(self, ref: ir.ActorRef, start: Callable[[], Worker], on_idle: Callable[[], None]) -> None:
        self.ref = ref
        self.stats = ActorStats()
        self._start = start
        self._on_idle = on_idle
        self._cond = threading.Condition()
        self._idle: list[Worker] = []  # the most recently used last: it is reused first
        self._busy: set[Worker] = set()
        self._starting = 0
        self._closed = False

    def _refuse_if_closed(self) -> None:
        # Only an attempt abandoned by a timeout can still ask once its run has ended.
        if self._closed:
            raise ExecutionError(f"actor environment '{self.ref.name}': its run has ended; no worker starts")

    def acquire(self) -> Worker:
        """A free worker: an idle one, a new one while fewer than ``replica_count`` run, or the next freed."""
        with self._cond:
            while True:
                self._refuse_if_closed()
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        self._busy.add(worker)
                        return worker
                    self.stats.lost += 1  # killed while idle
                    worker.conn.close()
                if len(self._busy) + self._starting < self.ref.replica_count:
                    self._starting += 1
                    break
                self._cond.wait()
        try:
            worker = self._start()  # seconds, outside the lock: other tasks may use other workers
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self.stats.starts += 1
            self.stats.pids.append(worker.pid)
            late = self._closed
            if not late:
                self._busy.add(worker)
        if late:
            worker.stop()
            self._refuse_if_closed()
        return worker

    def release(self, worker: Worker) -> None:
        with self._cond:
            self._busy.discard(worker)
            late = self._closed
            if not late:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                self._cond.notify()
        if late:
            worker.stop()
            return
        self._on_idle()

    def discard(self, worker: Worker, *, lost: bool) -> None:
        """Drop a worker that died (``lost``) or whose attempt was abandoned (killed here)."""
        worker.kill()
        with self._cond:
            self._busy.discard(worker)
            self.stats.lost += lost
            self._cond.notify()

    def expire(self, now: float) -> tuple[list[Worker], float | None]:
        """Take out the workers idle for ``ttl_seconds``; also when the next idle one will be."""
        ttl = self.ref.ttl_seconds
        with self._cond:
            expired = [w for w in self._idle if now - w.idle_since >= ttl]
            self._idle = [w for w in self._idle if now - w.idle_since < ttl]
            self.stats.expired += len(expired)
            upcoming = min((w.idle_since + ttl for w in self._idle), default=None)
        return expired, upcoming

    def close(self) -> tuple[list[Worker], list[Worker]]:
        """(idle, still busy) workers, all taken out; from now on no worker starts."""
        with self._cond:
            self._closed = True
            idle, busy = self._idle, list(self._busy)
            self._idle, self._busy = [], set()
            self._cond.notify_all()
        return idle, busy


class ActorPool:
    """The actor environments of one local run (and of its ``@dynamic`` sub-runs)."""

    def __init__(
        self,
        home: Path,
        *,
        use_cache: bool,
        overwrite_cache: bool = False,
        context: BaseContext | None = None,
    ) -> None:
        self._home = str(home)
        self._use_cache = use_cache
        self._overwrite_cache = overwrite_cache
        self._context = context  # None: worker_start_context(), when the first worker starts
        self._lock = threading.Lock()
        self._envs: dict[str, Environment] = {}
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None

    def environment(self, ref: ir.ActorRef) -> Environment:
        """The environment called ``ref.name`` (an environment is its name), created on first use."""
        with self._lock:
            env = self._envs.get(ref.name)
            if env is None:
                if self._context is None:
                    self._context = worker_start_context()
                start = functools.partial(
                    Worker, self._context, self._home, self._use_cache, ref.name, self._overwrite_cache
                )
                env = self._envs[ref.name] = Environment(ref, start, self._wake.set)
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="stratoflow-actor-ttl", daemon=True)
                self._reaper.start()
            return env

    def stats(self) -> dict[str, ActorStats]:
        """Per environment used in the run: worker starts, their pids, losses, expiries."""
        with self._lock:
            return {name: replace(env.stats, pids=list(env.stats.pids)) for name, env in self._envs.items()}

    def _reap(self) -> None:
        while not self._closed.is_set():
            self._wake.clear()  # before the scan: a worker freed during it wakes the next wait
            now = time.monotonic()
            wait: float | None = None
            with self._lock:
                envs = list(self._envs.values())
            for env in envs:
                expired, upcoming = env.expire(now)
                for worker in expired:
                    worker.stop()
                if upcoming is not None:
                    wait = min(wait if wait is not None else upcoming - now, upcoming - now)
            self._wake.wait(None if wait is None else max(wait, 0.01))

    def close(self) -> None:
        """Stop every worker (at the end of the run)."""
        self._closed.set()
        self._wake.set()
        if self._reaper is not None:
            self._reaper.join()
        with self._lock:
            envs = list(self._envs.values())
        for env in envs:
            idle, busy = env.close()
            for worker in idle:
                worker.stop()
            for worker in busy:  # only if the run was interrupted mid-task
                worker.kill()
