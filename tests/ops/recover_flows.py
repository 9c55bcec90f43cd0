"""Workflows that fail until a flag file exists, counting every call of their functions in a folder."""

from __future__ import annotations

from pathlib import Path

from stratoflow import map_task, task, workflow


def _count(folder: str, what: str) -> None:
    with (Path(folder) / "calls.log").open("a") as log:
        log.write(what + "\n")


def calls(folder: Path) -> list[str]:
    """Every function call so far, in order."""
    log = folder / "calls.log"
    return log.read_text().split() if log.is_file() else []


@task
def extract(folder: str) -> list[int]:
    _count(folder, "extract")
    return [1, 2, 3, 4]


@task
def audit(folder: str) -> str:
    _count(folder, "audit")
    return "audited"


@task
def fragile(numbers: list[int], folder: str) -> int:
    _count(folder, "fragile")
    if not (Path(folder) / "fixed").exists():
        raise RuntimeError("not fixed yet")
    return sum(numbers)


@task
def report(total: int, note: str) -> str:
    return f"{note}: {total}"


@workflow
def pipeline(folder: str) -> str:
    """extract and audit succeed (uncached), fragile fails until the flag exists."""
    return report(total=fragile(numbers=extract(folder=folder), folder=folder), note=audit(folder=folder))


@task
def paths(folder: str, count: int) -> list[str]:
    return [f"{folder}/{i}" for i in range(count)]


@task
def flaky_item(path: str) -> int:
    folder, _, index = path.rpartition("/")
    _count(folder, f"item{index}")
    if int(index) % 3 == 0 and not (Path(folder) / "fixed").exists():
        raise ValueError(f"item {index} not fixed yet")
    return int(index) * 10


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def fan_out(folder: str, count: int = 7) -> int:
    """Items 0, 3 and 6 fail until the flag exists; the others succeed the first time."""
    return total(values=map_task(flaky_item)(path=paths(folder=folder, count=count)))
