"""What imports create is frozen out of the garbage collector's work; what a run creates is not."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

import stratoflow
from stratoflow import map_task, task, workflow
from stratoflow._frozen_heap import loading

_PROBE = (
    "import gc; import stratoflow, stratoflow.ir._models, stratoflow.backends.local; "
    "print(gc.get_freeze_count())"
)


def _frozen_after_import(**env: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_importing_stratoflow_freezes_what_it_loaded() -> None:
    assert _frozen_after_import() > 10_000  # modules, classes, functions: tens of thousands


def test_stratoflow_gc_freeze_0_turns_it_off() -> None:
    assert _frozen_after_import(STRATOFLOW_GC_FREEZE="0") == 0


class _Cycle:
    def __init__(self) -> None:
        self.me = self


_COLLECTED: list[str] = []


@task
def make_garbage(x: int) -> int:
    cycle = _Cycle()
    cycle.tag = x  # type: ignore[attr-defined]
    import weakref

    weakref.finalize(cycle, _COLLECTED.append, f"item {x}")
    return x


@workflow
def garbage(xs: list[int]) -> list[int]:
    return map_task(make_garbage)(x=xs)


def test_reference_cycles_a_run_creates_are_still_collected() -> None:
    assert stratoflow.__name__  # imported: the freezes have happened
    _COLLECTED.clear()
    assert garbage(xs=[1, 2, 3]) == [1, 2, 3]
    gc.collect()
    assert sorted(_COLLECTED) == ["item 1", "item 2", "item 3"]


def test_loading_pauses_the_collector_and_restores_it() -> None:
    assert gc.isenabled()
    with loading():
        assert not gc.isenabled()
        with loading():  # a batch inside a batch (the IR loading during `import stratoflow`)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_loading_restores_the_collector_when_an_import_fails() -> None:
    with pytest.raises(ModuleNotFoundError), loading():
        import stratoflow._no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()


def test_loading_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with loading():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


_COUNT_PROBE = (
    "import gc; import stratoflow; from stratoflow import ir; ir.SourceLocation; "
    "print(sum(s['collections'] for s in gc.get_stats()), gc.isenabled())"
)


def test_import_and_the_ir_load_with_few_collections() -> None:
    # Unpaused, `import stratoflow` and the IR's pydantic models set off some sixty collections;
    # what is left is the interpreter's own start-up (site, typing) before the pause.
    done = subprocess.run([sys.executable, "-c", _COUNT_PROBE], capture_output=True, text=True, check=True)
    collections, enabled = done.stdout.split()
    assert enabled == "True"
    assert int(collections) < 30, collections


_AT_EXIT = """
import atexit, gc
from stratoflow import task, workflow

@task
def one(x: int) -> int:
    return x + 1

@workflow
def wf(x: int) -> int:
    return one(x=x)

# Registered before the run: atexit runs it after the run's own exit handler.
atexit.register(lambda: print("frozen at exit", gc.get_freeze_count() - before))
assert wf(x=1) == 2
garbage = [[] for _ in range(1000)]  # made after the run: alive at exit, frozen then
before = gc.get_freeze_count()
"""


def test_a_process_that_ran_a_workflow_freezes_its_heap_as_it_exits(tmp_path: os.PathLike[str]) -> None:
    # The interpreter's shutdown then collects none of it again (stratoflow._frozen_heap).
    env = {**os.environ, "STRATOFLOW_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _AT_EXIT], env=env, capture_output=True, text=True, check=True
    )
    grown = int(done.stdout.split("frozen at exit")[1])
    assert grown >= 1000
