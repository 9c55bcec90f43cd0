import csv
import tempfile
import typing
from enum import Enum
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple, TypeVar

from stratoflow import kwtypes, task, workflow
from stratoflow.exceptions.user import FlyteRecoverableException
from stratoflow.types.directory import FlyteDirectory
from stratoflow.types.file import FlyteFile


# A tuple of outputs written as a bare tuple, flytekit's "Option 4"
@task
def mean_and_spread(values: List[float]) -> (float, float):
    mean = sum(values) / len(values)
    return mean, max(values) - min(values)


@workflow
def stats_wf(values: List[float] = [1.0, 2.0, 6.0]) -> (float, float):
    mean, spread = mean_and_spread(values=values)
    return mean, spread


# A dictionary with integer keys, and a value read from it by key in the workflow
@task
def squares(n: int) -> Dict[int, int]:
    return {i: i * i for i in range(n)}


@task
def describe(table: Dict[int, int]) -> str:
    return ", ".join(f"{k}->{v}" for k, v in sorted(table.items()))


@workflow
def squares_wf(n: int = 4) -> Tuple[str, int]:
    table = squares(n=n)
    return describe(table=table), table[3]


# A dictionary keyed by an enum
class Color(Enum):
    RED = "red"
    GREEN = "green"


@task
def count_colors(names: List[str]) -> Dict[Color, int]:
    counts: Dict[Color, int] = {}
    for name in names:
        counts[Color(name)] = counts.get(Color(name), 0) + 1
    return counts


@workflow
def colors_wf(names: List[str] = ["red", "green", "red"]) -> Tuple[Dict[Color, int], int]:
    counts = count_colors(names=names)
    return counts, counts[Color.RED]


# A one-field NamedTuple whose task returns the bare value
total_value = NamedTuple("total_value", [("total", int)])


@task
def total(values: List[int]) -> total_value:
    return sum(values)


@workflow
def total_wf(values: List[int] = [1, 2, 3]) -> total_value:
    return total(values=values)


# Tasks and workflows with no return annotation have no outputs
@task
def log_message(message: str):
    print(message)


@workflow
def log_wf(message: str = "hello"):
    log_message(message=message)


# Format-typed files: FlyteFile[TypeVar("csv")]
@task
def write_csv(rows: List[List[str]]) -> FlyteFile[TypeVar("csv")]:
    out_path = Path(tempfile.mkdtemp()) / "rows.csv"
    with open(out_path, mode="w", newline="") as output_file:
        csv.writer(output_file).writerows(rows)
    return FlyteFile(path=str(out_path))


@task
def count_rows(csv_file: FlyteFile[TypeVar("csv")]) -> int:
    with open(csv_file, newline="") as input_file:
        return sum(1 for _ in csv.reader(input_file))


@workflow
def csv_wf(rows: List[List[str]] = [["a", "1"], ["b", "2"], ["c", "3"]]) -> int:
    return count_rows(csv_file=write_csv(rows=rows))


# Directories
@task
def make_dir(names: List[str]) -> FlyteDirectory:
    local_dir = Path(tempfile.mkdtemp()) / "files"
    local_dir.mkdir()
    for name in names:
        (local_dir / f"{name}.txt").write_text(name)
    return FlyteDirectory(path=str(local_dir))


@task
def list_dir(directory: FlyteDirectory) -> List[str]:
    return sorted(p.name for p in Path(directory).iterdir())


@workflow
def dir_wf(names: List[str] = ["b", "a"]) -> List[str]:
    return list_dir(directory=make_dir(names=names))


# Retrying a recoverable error (Flyte's retries documentation raises FlyteRecoverableException)
@task(retries=3)
def flaky(attempts_file: str) -> int:
    path = Path(attempts_file)
    attempt = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempt))
    if attempt < 3:
        raise FlyteRecoverableException(f"attempt {attempt} failed")
    return attempt


@workflow
def flaky_wf(attempts_file: str) -> int:
    return flaky(attempts_file=attempts_file)


# kwtypes: names and types, in order
columns = kwtypes(name=str, age=int)


@task
def column_names() -> typing.List[str]:
    return list(columns.keys())


@workflow
def columns_wf() -> typing.List[str]:
    return column_names()


@workflow
def describe_wf(table: Dict[int, int]) -> str:
    return describe(table=table)


# An item that is not there when the workflow runs fails the node that reads it
@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def sixth_square_wf(n: int = 4) -> int:
    return plus_one(x=squares(n=n)[5])
