"""datetime, date, timedelta, Decimal, Enum and Annotated[T, ...]: round trips, CLI coercion, stable hashes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import subprocess
import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Optional

import pytest

from stratoflow import values
from stratoflow.values import LocalBlobStore, UnsupportedTypeError, typeref_of
from tests.emulated.lang_flows import Color

UTC = dt.UTC


@dataclasses.dataclass
class Booking:
    at: dt.datetime
    length: dt.timedelta
    price: decimal.Decimal
    color: Color


VALUES: list[tuple[Any, Any]] = [
    (dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), dt.datetime),
    (dt.datetime(2024, 1, 2, 3, 4, 5), dt.datetime),
    (dt.date(2024, 2, 29), dt.date),
    (dt.timedelta(days=-1, seconds=5, microseconds=7), dt.timedelta),
    (decimal.Decimal("1.10"), decimal.Decimal),
    (Color.BLUE, Color),
    (7, Annotated[int, "count"]),
    ([dt.date(2024, 1, 1), None], list[Optional[dt.date]]),  # noqa: UP045
    (
        Booking(
            dt.datetime(2024, 5, 1, tzinfo=UTC), dt.timedelta(hours=2), decimal.Decimal("9.99"), Color.RED
        ),
        Booking,
    ),
]


@pytest.mark.parametrize(("value", "annotation"), VALUES, ids=[repr(v)[:40] for v, _ in VALUES])
def test_round_trip_keeps_value_and_type(tmp_path: Path, value: Any, annotation: Any) -> None:
    t = typeref_of(annotation)
    store = LocalBlobStore(tmp_path)
    literal = values.encode(value, t, store)
    back = values.decode(literal, t, store)
    assert back == value
    assert type(back) is type(value)
    assert values.encode(back, t, store).hash == literal.hash


def test_annotated_is_its_type() -> None:
    assert typeref_of(Annotated[dt.date, "meta"]) == typeref_of(dt.date)
    assert typeref_of(Annotated[list[int], "meta"]).render() == "list[int]"


def test_equal_decimals_spelled_differently_stay_distinct_values() -> None:
    t = typeref_of(decimal.Decimal)
    a = values.encode(decimal.Decimal("1.1"), t, LocalBlobStore(Path("/nonexistent")))
    b = values.encode(decimal.Decimal("1.10"), t, LocalBlobStore(Path("/nonexistent")))
    assert a.hash != b.hash  # exact: the round trip keeps the spelling, so the hash does too


def test_wrong_values_are_type_errors_naming_the_type() -> None:
    with pytest.raises(values.ValueTypeError, match="expected date, got datetime"):
        values.check_value(dt.datetime(2024, 1, 1), typeref_of(dt.date))
    with pytest.raises(values.ValueTypeError, match="expected Decimal, got Decimal Decimal\\('NaN'\\)"):
        values.check_value(decimal.Decimal("NaN"), typeref_of(decimal.Decimal))
    with pytest.raises(values.ValueTypeError, match="expected Color, got str 'green'"):
        values.coerce_input("green", typeref_of(Color))


def test_cli_inputs_coerce_from_json() -> None:
    assert values.coerce_input("2024-01-02T03:04:05+00:00", typeref_of(dt.datetime)) == dt.datetime(
        2024, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert values.coerce_input("2024-01-02", typeref_of(dt.date)) == dt.date(2024, 1, 2)
    assert values.coerce_input(90, typeref_of(dt.timedelta)) == dt.timedelta(seconds=90)
    assert values.coerce_input("2.50", typeref_of(decimal.Decimal)) == decimal.Decimal("2.50")
    assert values.coerce_input("blue", typeref_of(Color)) is Color.BLUE
    assert values.coerce_input("RED", typeref_of(Color)) is Color.RED  # by member name too


def test_an_enum_with_mixed_values_is_unsupported() -> None:
    import enum

    class Mixed(enum.Enum):
        A = "a"
        B = 2

    with pytest.raises(UnsupportedTypeError, match="Enum 'Mixed' must have all-str or all-int values"):
        typeref_of(Mixed)


_HASHES = """
import datetime as dt, decimal
from pathlib import Path
from stratoflow import values
from stratoflow.values import LocalBlobStore, typeref_of
from tests.emulated.lang_flows import Color
store = LocalBlobStore(Path("/nonexistent"))
for value, t in [
    (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), dt.datetime),
    (dt.date(2024, 2, 29), dt.date),
    (dt.timedelta(hours=2), dt.timedelta),
    (decimal.Decimal("9.99"), decimal.Decimal),
    (Color.RED, Color),
]:
    print(values.encode(value, typeref_of(t), store).hash)
"""


def test_hashes_are_the_same_in_a_fresh_process() -> None:
    store = LocalBlobStore(Path("/nonexistent"))
    here = [
        values.encode(v, typeref_of(t), store).hash
        for v, t in [
            (dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), dt.datetime),
            (dt.date(2024, 2, 29), dt.date),
            (dt.timedelta(hours=2), dt.timedelta),
            (decimal.Decimal("9.99"), decimal.Decimal),
            (Color.RED, Color),
        ]
    ]
    repo = Path(__file__).resolve().parents[2]
    fresh = subprocess.run(
        [sys.executable, "-c", _HASHES], capture_output=True, text=True, check=True, cwd=repo
    ).stdout.split()
    assert fresh == here
    assert len(set(here)) == len(here)


def test_typing_optional_alias_still_resolves() -> None:
    assert typeref_of(typing.Optional[dt.timedelta]).render() == "Optional[timedelta]"  # noqa: UP045
