"""Tasks and workflows the local-executor tests run (module level: task refs are 'module:qualname')."""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pydantic

from stratoflow import Directory, File, map_task, task, workflow

# Two sibling tasks wait here for each other: the run only succeeds if both are running at once.
BARRIER = threading.Barrier(2, timeout=10)


def bump(counter: str) -> int:
    """Append a line to ``counter`` and return how many lines it now has (a cross-process call count)."""
    with open(counter, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    return len(Path(counter).read_text(encoding="utf-8").splitlines())


def count(counter: str | Path) -> int:
    """How many times ``bump`` was called on ``counter``."""
    path = Path(counter)
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def scratch_dir() -> Path:
    """A fresh folder under this test's STRATOFLOW_HOME (so tasks leave nothing behind in /tmp)."""
    path = Path(os.environ["STRATOFLOW_HOME"]) / "scratch" / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


# --- a small DAG -----------------------------------------------------------------------------


@task
def inc(x: int) -> int:
    return x + 1


@task
def double(x: int) -> int:
    return 2 * x


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def diamond(x: int) -> int:
    a = inc(x=x)
    return add(a=double(x=a), b=inc(x=a))


# --- parallelism -----------------------------------------------------------------------------


@task
def meet(name: str) -> str:
    BARRIER.wait()
    return name


@task
def concat(a: str, b: str) -> str:
    return a + b


@workflow
def rendezvous() -> str:
    return concat(a=meet(name="left"), b=meet(name="right"))


# --- retries and timeouts ----------------------------------------------------------------------


@task(retries=2)
def flaky(counter: str, failures: int) -> int:
    calls = bump(counter)
    if calls <= failures:
        raise RuntimeError(f"flaky failure {calls}")
    return calls


@workflow
def flaky_wf(counter: str, failures: int) -> int:
    return flaky(counter=counter, failures=failures)


@task(timeout=1, retries=1)
def sleepy(counter: str, seconds: float) -> int:
    calls = bump(counter)
    time.sleep(seconds)
    return calls


@workflow
def sleepy_wf(counter: str, seconds: float) -> int:
    return sleepy(counter=counter, seconds=seconds)


# --- failures ----------------------------------------------------------------------------------


@task
def explode(x: int) -> int:
    raise ValueError(f"boom {x}")


@task
def record(x: int, marker: str) -> int:
    bump(marker)
    return x


@workflow
def failing(x: int, marker: str) -> int:
    exploded = explode(x=x)
    return record(x=record(x=exploded, marker=marker), marker=marker)


# --- map_task ----------------------------------------------------------------------------------


@task
def slow_square(x: int) -> int:
    # Earlier items finish last, so an order-preserving gather is actually tested.
    time.sleep(0.005 * (10 - x % 10))
    return x * x


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def fragile(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative item {x}")
    return x * 10


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@workflow
def squares(xs: list[int]) -> list[int]:
    return map_task(slow_square, concurrency=4)(x=xs)


@workflow
def zipped(a: list[int], b: list[int]) -> list[int]:
    return map_task(add)(a=a, b=b)


@workflow
def tripled(xs: list[int]) -> list[int]:
    return map_task(functools.partial(scale, factor=3))(x=xs)


@workflow
def broadcast(xs: list[int], factor: int) -> list[int]:
    return map_task(scale)(x=xs, factor=factor)


@workflow
def tolerant(xs: list[int]) -> list[int | None]:
    return map_task(fragile, min_success_ratio=0.5)(x=xs)


@workflow
def strict(xs: list[int]) -> list[int | None]:
    return map_task(fragile, min_success_ratio=0.75)(x=xs)


@workflow
def all_or_nothing(xs: list[int]) -> list[int]:
    return map_task(fragile)(x=xs)


@workflow
def squares_total(n: int) -> int:
    return total(xs=map_task(slow_square)(x=numbers(n=n)))


@workflow
def fan_in(x: int) -> int:
    return total(xs=[inc(x=x), double(x=x), x])


# --- files -------------------------------------------------------------------------------------


@task
def write_text(text: str) -> File:
    path = scratch_dir() / "note.txt"
    path.write_text(text, encoding="utf-8")
    return File(path)


@task
def shout(f: File) -> File:
    with f.open(encoding="utf-8") as handle:
        text = handle.read()
    path = scratch_dir() / "loud.txt"
    path.write_text(text.upper(), encoding="utf-8")
    return File(path)


@task
def read_text(f: File) -> str:
    with f.open(encoding="utf-8") as handle:
        return handle.read()


@workflow
def file_chain(text: str) -> tuple[str, File]:
    loud = shout(f=write_text(text=text))
    return read_text(f=loud), loud


@workflow
def read_input_file(data: File) -> str:
    return read_text(f=data)


# --- richer values between tasks ------------------------------------------------------------------


@dataclass
class Bundle:
    title: str
    attachment: File
    sizes: dict[str, int]


class Invoice(pydantic.BaseModel):
    customer: str
    lines: list[float]
    paid: bool = False


@task
def make_tree(names: list[str]) -> Directory:
    root = scratch_dir() / "tree"
    (root / "nested").mkdir(parents=True)
    for name in names:
        (root / "nested" / f"{name}.txt").write_text(name * 2, encoding="utf-8")
    return Directory(root)


@task
def list_tree(tree: Directory) -> dict[str, str]:
    root = Path(tree.download())
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.txt"))
    }


@workflow
def tree_chain(names: list[str]) -> dict[str, str]:
    return list_tree(tree=make_tree(names=names))


@task
def bundle(text: str) -> Bundle:
    path = scratch_dir() / "attached.txt"
    path.write_text(text, encoding="utf-8")
    return Bundle(title=text[:3], attachment=File(path), sizes={"chars": len(text)})


@task
def unbundle(b: Bundle) -> str:
    with b.attachment.open(encoding="utf-8") as handle:
        return f"{b.title}|{handle.read()}|{b.sizes['chars']}"


@workflow
def bundle_chain(text: str) -> str:
    return unbundle(b=bundle(text=text))


@task
def bill(customer: str, lines: list[float]) -> Invoice:
    return Invoice(customer=customer, lines=lines)


@task
def settle(invoice: Invoice) -> Invoice:
    return invoice.model_copy(update={"paid": True})


@workflow
def billing(customer: str, lines: list[float]) -> Invoice:
    return settle(invoice=bill(customer=customer, lines=lines))


# --- map items in parallel; a timed-out attempt that later finishes ----------------------------------

ITEM_BARRIER = threading.Barrier(2, timeout=10)


@task
def meet_item(i: int) -> int:
    ITEM_BARRIER.wait()
    return i


@workflow
def mapped_meeting(xs: list[int]) -> list[int]:
    return map_task(meet_item, concurrency=2)(i=xs)


@task(cache=True, timeout=1, cache_ignore_input_vars=("marker",))
def slow_cached(x: int, marker: str, seconds: float) -> int:
    time.sleep(seconds)
    bump(marker)  # reached only after the run has given up on this attempt
    return x


@workflow
def slow_cached_wf(x: int, marker: str, seconds: float) -> int:
    return slow_cached(x=x, marker=marker, seconds=seconds)


# --- nested lists of promises, lists of files, optional files -----------------------------------------


@task
def nested_total(rows: list[list[int]]) -> int:
    return sum(sum(row) for row in rows)


@workflow
def nested_fan_in(x: int) -> int:
    return nested_total(rows=[[inc(x=x)], [double(x=x), 3], []])


@task
def file_size(f: File) -> int:
    return Path(f.download()).stat().st_size


@task
def maybe_size(f: File | None) -> int:
    return -1 if f is None else Path(f.download()).stat().st_size


@workflow
def file_sizes(files: list[File], extra: File | None = None) -> tuple[list[int], int]:
    return map_task(file_size)(f=files), maybe_size(f=extra)


@task
def refuse_for_history(x: int) -> int:
    raise ValueError(f"history says no to {x}")


@workflow
def failing_flow_for_history(x: int) -> int:
    return refuse_for_history(x=x)


# --- which threads map items run on -----------------------------------------------------------------


@task
def item_thread(i: int, pause: float) -> str:
    time.sleep(pause)
    return threading.current_thread().name


@workflow
def mapped_threads(xs: list[int], pause: float) -> list[str]:
    return map_task(item_thread)(i=xs, pause=pause)
