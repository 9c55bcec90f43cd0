"""Take what imports create out of the garbage collector's work.

Modules, classes and functions (stratoflow's, pydantic's, the standard library's) live as long
as the process, yet every full collection walks them again, and so does the interpreter's last
collection at exit: measured, about 50 ms of the 250 ms of CPU a short local run takes.
:func:`gc.freeze` moves every object tracked at that moment into the collector's permanent
generation, which collections skip. Frozen objects keep their reference counts, so anything the
freeze catches is still freed when its last reference goes; only a reference cycle among objects
alive at the freeze is never collected (and a finalizer in such a cycle does not run at exit,
which Python does not promise anyway).

Called where a batch of stratoflow's modules has just loaded (``import stratoflow``, the IR with
pydantic, the local backend): at most three times a process, never per run, so what a run
creates is collected as usual; and, once a process has run a workflow, as the interpreter starts
to exit (:func:`freeze_at_exit`). ``STRATOFLOW_GC_FREEZE=0`` turns it off.

:func:`loading` also pauses the collector while such a batch loads: the imports allocate some
tens of thousands of objects that all live on, and the young-generation collections they set
off (about sixty for ``import stratoflow`` and the IR) walk them for nothing, a few per cent of
a short run. What little cyclic garbage the imports leave (some hundreds of objects) is frozen
with the rest instead of freed.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import os
from collections.abc import Iterator


def freeze_loaded() -> None:
    """Move every object alive now into the collector's permanent generation (see the module)."""
    if os.environ.get("STRATOFLOW_GC_FREEZE", "1") != "0":
        gc.freeze()


@functools.cache
def freeze_at_exit() -> None:
    """Freeze what is alive when the interpreter starts to exit (once registered, in any process
    that ran a workflow): its shutdown then collects none of it again while it tears the modules
    down. Nothing is lost: a run has committed its history and written its outputs by then, and
    Python does not promise finalizers for objects alive at exit."""
    atexit.register(freeze_loaded)


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Load a batch of long-lived modules with the collector paused, then freeze them (see the
    module); the collector is as it was after, whether the imports succeed or fail."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_loaded()
        if enabled:
            gc.enable()
