"""Workflows passing pandas DataFrames and pyarrow Tables between tasks (the tests' shared flows)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from stratoflow import task, workflow


def _count_call(name: str) -> None:
    # Appends a line per real call, so a test in a fresh process can count cache hits.
    marker = os.environ.get("FRAME_CALLS")
    if marker:
        with Path(marker).open("a", encoding="utf-8") as handle:
            handle.write(name + "\n")


@task(cache=True)
def make_sales(n: int) -> pd.DataFrame:
    _count_call("make_sales")
    return pd.DataFrame(
        {
            "region": pd.Categorical([("north", "south", "east")[i % 3] for i in range(n)]),
            "units": pd.array([i * 2 for i in range(n)], dtype="int32"),
            "price": [1.5 + i for i in range(n)],
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="row"),
    )


@task
def by_region(sales: pd.DataFrame) -> pd.DataFrame:
    revenue = sales.assign(revenue=sales["units"] * sales["price"])
    return revenue.groupby("region", observed=True)[["revenue"]].sum().sort_index()


@task
def as_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame)


@task
def table_total(table: pa.Table) -> float:
    return float(sum(table.column("revenue").to_pylist()))


@workflow
def regional_revenue(n: int) -> tuple[pd.DataFrame, float]:
    summary = by_region(sales=make_sales(n=n))
    return summary, table_total(table=as_table(frame=summary))


@workflow
def summarise(sales: pd.DataFrame) -> pd.DataFrame:
    return by_region(sales=sales)
