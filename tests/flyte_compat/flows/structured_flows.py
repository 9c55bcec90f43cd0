"""StructuredDataset as Flyte's docs use it, beyond flytesnacks' file: pyarrow, map_task items,
plain readers of a subset, a missing column, ``uri=``, and a container task."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pyarrow as pa

from stratoflow import Resources, StructuredDataset, kwtypes, map_task, task, workflow

cols = kwtypes(city=str, temp=float)


@task
def readings(n: int) -> StructuredDataset:
    df = pd.DataFrame(
        {"city": [f"c{i % 3}" for i in range(n)], "temp": [10.0 + i for i in range(n)], "id": list(range(n))}
    )
    return StructuredDataset(dataframe=df)


@task
def as_arrow(sd: Annotated[StructuredDataset, cols]) -> pa.Table:
    return sd.open(pa.Table).all()  # only city and temp


@task
def mean_temp(table: pa.Table) -> float:
    return round(sum(table.column("temp").to_pylist()) / table.num_rows, 3)


@task
def split(sd: StructuredDataset, parts: int) -> list[StructuredDataset]:
    df = sd.open(pd.DataFrame).all()
    return [StructuredDataset(dataframe=df.iloc[i::parts].reset_index(drop=True)) for i in range(parts)]


@task
def hottest(sd: Annotated[StructuredDataset, cols]) -> str:
    df = sd.open(pd.DataFrame).all()
    return f"{df.loc[df['temp'].idxmax(), 'city']}:{list(df.columns)}"


@task(requests=Resources(cpu=8, mem="32Gi"))
def row_count_on_a_container(sd: StructuredDataset) -> int:
    return sd.open(pa.Table).all().num_rows


@workflow
def weather(n: int = 7, parts: int = 3) -> tuple[float, list[str], int]:
    sd = readings(n=n)
    return (
        mean_temp(table=as_arrow(sd=sd)),
        map_task(hottest)(sd=split(sd=sd, parts=parts)),
        row_count_on_a_container(sd=sd),
    )


@task
def wants_missing(sd: Annotated[StructuredDataset, kwtypes(rain=float)]) -> int:
    return len(sd.open(pd.DataFrame).all())


@workflow
def missing_column_wf(n: int = 3) -> int:
    return wants_missing(sd=readings(n=n))


@task
def from_uri(path: str) -> StructuredDataset:
    return StructuredDataset(uri=path)


@task
def columns_of(sd: StructuredDataset) -> list[str]:
    return list(sd.open(pd.DataFrame).all().columns)


@workflow
def uri_wf(path: str) -> list[str]:
    return columns_of(sd=from_uri(path=path))


@workflow
def uri_columns_wf(sd: StructuredDataset) -> list[str]:
    return columns_of(sd=sd)
