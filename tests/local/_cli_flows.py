"""Workflows for the CLI tests: inputs named like `stratoflow run`'s options, a chatty task, files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stratoflow import File, task, workflow


@task
def combine(n: int, w: int, stack: str, s: str, json: int) -> str:
    return f"n={n} w={w} stack={stack} s={s} json={json}"


@workflow
def named_like_options(n: int, w: int = 1, stack: str = "-", s: str = "-", json: int = 0) -> str:
    return combine(n=n, w=w, stack=stack, s=s, json=json)


@task
def chatty(x: int) -> int:
    print("hello from the task")
    sys.stdout.flush()
    # A child process writes to fd 1 directly, below sys.stdout.
    subprocess.run([sys.executable, "-c", "print('hello from a subprocess')"], check=True)
    return x + 1


@workflow
def talks(x: int) -> int:
    return chatty(x=x)


@task
def echo(text: str) -> str:
    return text


@workflow
def echoed(text: str) -> str:
    return echo(text=text)


@task
def write_report(rows: int) -> File:
    path = Path(os.environ.get("REPORT_DIR", ".")) / "report.txt"
    path.write_text("row\n" * rows, encoding="utf-8")
    return File(path)


@task
def count_lines(data: File) -> int:
    with data.open() as handle:
        return sum(1 for _ in handle)


@workflow
def report(data: File, rows: int) -> tuple[File, int]:
    made = write_report(rows=rows)
    return made, count_lines(data=data)


@task
def seen_name(data: File) -> str:
    """Where a task finds its input file: the path's last part is the file's own name."""
    return data.path


@workflow
def input_path(data: File) -> str:
    return seen_name(data=data)


@task
def twins(rows: int) -> list[File]:
    out = []
    for i in range(2):
        folder = Path(os.environ["REPORT_DIR"]) / f"part{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.txt").write_text(f"part {i}\n" * rows, encoding="utf-8")
        out.append(File(folder / "report.txt"))
    return out


@workflow
def same_names(rows: int) -> list[File]:
    return twins(rows=rows)
