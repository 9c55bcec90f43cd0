"""The examples compute the right answers (expected values derived here, from the CSV and the formulas)."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import random
import re
import statistics
from decimal import Decimal
from pathlib import Path

import pytest

from stratoflow import File
from tests._examples import SALES_CSV, load_example

INT = re.compile(r"^[+-]?\d+$")
FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def expected_sales() -> dict[str, object]:
    header, *rows = SALES_CSV.read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    by_region: dict[str, Decimal] = collections.defaultdict(Decimal)
    by_product: dict[str, Decimal] = collections.defaultdict(Decimal)
    kept = 0
    for line in rows:
        row = dict(zip(columns, line.split(","), strict=True))
        if not (INT.match(row["units"].strip()) and FLOAT.match(row["unit_price"].strip())):
            continue
        kept += 1
        amount = int(row["units"]) * Decimal(row["unit_price"])
        by_region[row["region"]] += amount
        by_product[row["product"]] += amount
    return {
        "rows_in": len(rows),
        "rows_kept": kept,
        "revenue": sum(by_region.values()),
        "revenue_by_region": dict(sorted(by_region.items())),
        "top_product": max(by_product, key=by_product.__getitem__),
    }


def test_etl_sales_report() -> None:
    sales_report = load_example("etl.py", "sales_report")
    summary, report = sales_report(data=File(SALES_CSV))
    expected = expected_sales()
    assert summary.rows_in == expected["rows_in"] == 400
    assert summary.rows_kept == expected["rows_kept"]
    assert 0 < summary.rows_kept < summary.rows_in  # the CSV really has bad rows, and they are dropped
    assert summary.top_product == expected["top_product"]
    regions = expected["revenue_by_region"]
    assert isinstance(regions, dict)
    assert list(summary.revenue_by_region) == list(regions)
    for region, total in regions.items():
        # The example rounds to cents as it goes; exact decimal sums must agree to within a few cents.
        assert summary.revenue_by_region[region] == pytest.approx(float(total), abs=0.05)
    assert summary.revenue == pytest.approx(float(expected["revenue"]), abs=0.2)  # type: ignore[arg-type]
    assert summary.revenue == pytest.approx(sum(summary.revenue_by_region.values()), abs=0.011)
    # The report file is the summary as JSON.
    assert json.loads(Path(report.download()).read_text(encoding="utf-8")) == summary.__dict__


def expected_features(days: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)  # noqa: S311 - the example's synthetic data: same generator, same draws
    events = [(rng.randint(1, 50), rng.randint(1, 400), rng.expovariate(1 / 40)) for _ in range(days * 200)]
    per_user: dict[str, list[float]] = collections.defaultdict(list)
    for user, _, seconds in events:
        per_user[str(user)].append(seconds)
    user_means = {user: round(statistics.fmean(v), 3) for user, v in sorted(per_user.items())}
    sessions = collections.Counter(session for _, session, _ in events)
    sizes = sorted(sessions.values())
    fingerprint = int(hashlib.sha256(repr(sorted(user_means.items())).encode()).hexdigest()[:8], 16) / 1e9
    return {
        "sessions": float(len(sessions)),
        "median_events": float(sizes[len(sizes) // 2]),
        "users": float(len(user_means)),
        "mean_user_seconds": round(statistics.fmean(user_means.values()), 3),
        "fingerprint": fingerprint,
    }


@pytest.mark.parametrize(("days", "seed"), [(7, 42), (2, 3)])
def test_features(days: int, seed: int) -> None:
    features = load_example("features.py", "features")
    row = features(days=days, seed=seed)
    expected = expected_features(days, seed)
    assert set(row) == set(expected)
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, abs=1e-9), name
    assert row["users"] <= 50


def test_features_run_label_is_cosmetic() -> None:
    features = load_example("features.py", "features")
    assert features(days=1, run_label="a") == features(days=1, run_label="b")


def expected_training(samples: int, parts: int, learning_rate: float) -> tuple[dict[str, float], bool]:
    xs = [math.sin(i / 7.0) + (i % 5) / 10 for i in range(samples)]
    size = max(1, math.ceil(samples / parts))
    scores = [statistics.fmean(x * x for x in xs[i : i + size]) for i in range(0, samples, size)]
    # Gradient descent on mean((w - s)^2) from 0: w_k = mean * (1 - (1 - 2 lr)^k), k = 200 steps.
    weight = statistics.fmean(scores) * (1 - (1 - 2 * learning_rate) ** 200)
    loss = statistics.fmean((weight - s) ** 2 for s in scores)
    model = {"weight": round(weight, 6), "loss": round(loss, 6), "chunks": float(len(scores))}
    return model, loss < 1.0


@pytest.mark.parametrize(
    ("samples", "parts", "learning_rate"),
    [(1000, 8, 0.1), (10, 4, 0.1), (100, 3, 0.05)],
)
def test_training(samples: int, parts: int, learning_rate: float) -> None:
    training = load_example("training.py", "training")
    model, good = training(samples=samples, parts=parts, learning_rate=learning_rate)
    want_model, want_good = expected_training(samples, parts, learning_rate)
    assert model["chunks"] == want_model["chunks"]
    assert model["weight"] == pytest.approx(want_model["weight"], abs=2e-6)
    assert model["loss"] == pytest.approx(want_model["loss"], abs=2e-6)
    assert good is want_good


def test_training_default_inputs() -> None:
    training = load_example("training.py", "training")
    model, good = training()
    assert (model, good) == (
        pytest.approx(expected_training(1000, 8, 0.1)[0], abs=2e-6),
        expected_training(1000, 8, 0.1)[1],
    )
    assert model["chunks"] == 8.0
