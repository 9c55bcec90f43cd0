"""ETL over a CSV file: extract rows, drop bad ones, aggregate revenue, write a report.

Run it:  stratoflow run examples/etl.py sales_report --data examples/data/sales.csv
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stratoflow import File, Resources, S3Trigger, task, workflow


@dataclass
class Sale:
    region: str
    product: str
    units: int
    unit_price: float


@dataclass
class Summary:
    rows_in: int
    rows_kept: int
    revenue: float
    revenue_by_region: dict[str, float]
    top_product: str


@task(cache=True, cache_version="1")
def extract(data: File) -> list[dict[str, str]]:
    """Read the raw CSV rows (as strings, nothing parsed yet)."""
    with data.open(newline="") as handle:
        return list(csv.DictReader(handle))


@task(requests=Resources(cpu=1, mem="512Mi"))
def clean(rows: list[dict[str, str]]) -> list[Sale]:
    """Keep rows whose units and price parse; everything else is dropped."""
    sales = []
    for row in rows:
        try:
            sales.append(Sale(row["region"], row["product"], int(row["units"]), float(row["unit_price"])))
        except (KeyError, ValueError):
            continue
    return sales


@task
def summarise(raw: list[dict[str, str]], sales: list[Sale]) -> Summary:
    by_region: dict[str, float] = {}
    by_product: dict[str, float] = {}
    for sale in sales:
        amount = sale.units * sale.unit_price
        by_region[sale.region] = round(by_region.get(sale.region, 0.0) + amount, 2)
        by_product[sale.product] = by_product.get(sale.product, 0.0) + amount
    return Summary(
        rows_in=len(raw),
        rows_kept=len(sales),
        revenue=round(sum(by_region.values()), 2),
        revenue_by_region=dict(sorted(by_region.items())),
        top_product=max(by_product, key=lambda p: by_product[p]) if by_product else "",
    )


@task
def write_report(summary: Summary) -> File:
    """Write the summary as a JSON report file (stored by stratoflow and handed back)."""
    path = Path(tempfile.mkdtemp()) / "report.json"
    path.write_text(json.dumps(summary.__dict__, indent=2, sort_keys=True))
    return File(path)


@workflow(triggers=[S3Trigger(prefix="incoming/", suffix=".csv", input="data")])
def sales_report(data: File) -> tuple[Summary, File]:
    raw = extract(data=data)
    summary = summarise(raw=raw, sales=clean(rows=raw))
    return summary, write_report(summary=summary)
