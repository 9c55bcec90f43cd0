"""Workflows for the language constructs (conditionals, ``>>``, overrides), run locally and on
emulated AWS by tests/emulated/test_lang_e2e.py. Each task records when it started and ended."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import threading
import time
from datetime import timedelta
from typing import Annotated, Optional

from stratoflow import Resources, conditional, create_node, task, workflow

EVENTS: list[tuple[str, str, float]] = []
_LOCK = threading.Lock()


def _event(name: str, what: str) -> None:
    with _LOCK:
        EVENTS.append((name, what, time.monotonic()))


@task
def double(n: float) -> float:
    _event("double", "start")
    return n * 2


@task
def square(n: float) -> float:
    _event("square", "start")
    return n * n


@task
def negate(n: float) -> float:
    _event("negate", "start")
    return -n


@task
def is_even(n: int) -> bool:
    return n % 2 == 0


@task
def label(text: str, n: int) -> str:
    _event(f"label:{text}", "start")
    return f"{text}:{n}"


@task
def maybe_int(n: int) -> int:
    return n


@task
def maybe(n: int) -> Optional[int]:  # noqa: UP045 - Flyte users spell it this way
    return None if n < 0 else n


@workflow
def tripled(n: int) -> str:
    """A sub-workflow a case calls."""
    return label(text="sub", n=n)


@workflow
def fractions(x: float) -> float:
    """Three-way conditional, the middle case a nested conditional, the last a .fail()."""
    result = (
        conditional("fractions")
        .if_((x >= 0.1) & (x <= 1.0))
        .then(double(n=x))
        .elif_((x > 1.0) & (x <= 10.0))
        .then(conditional("small").if_(x < 5.0).then(square(n=x)).else_().then(negate(n=x)))
        .else_()
        .fail("The input must be between 0 and 10")
    )
    return double(n=result)


@workflow
def parity(n: int) -> str:
    """A condition on a task's output (is_true), or'ed comparisons, and a case calling a sub-workflow."""
    even = is_even(n=n)
    return (
        conditional("parity")
        .if_(even.is_true() & (n != 0))
        .then(label(text="even", n=n))
        .elif_((n == 1) | (n == 3))
        .then(tripled(n=n))
        .else_()
        .then(label(text="odd", n=n))
    )


@workflow
def optional_branch(n: int) -> str:
    """is_none() on an Optional output, then an ordered comparison of a promise with an input."""
    value = maybe(n=n)
    return (
        conditional("optional")
        .if_(value.is_none())
        .then(label(text="none", n=n))
        .elif_(value > 10)
        .then(label(text="big", n=n))
        .else_()
        .then(label(text="small", n=n))
    )


@task
def first(tag: str) -> None:
    _event(f"first:{tag}", "start")
    time.sleep(0.3)  # long enough that an unordered second task would start before this ends
    _event(f"first:{tag}", "end")


@task
def second(tag: str) -> str:
    _event(f"second:{tag}", "start")
    return f"second after first: {tag}"


@workflow
def ordered(tag: str) -> str:
    """``a >> b`` with no data between them."""
    a = first(tag=tag)
    b = second(tag=tag)
    a >> b
    return b


@workflow
def ordered_nodes(tag: str) -> str:
    """Flyte's create_node form of the same ordering."""
    n1 = create_node(first, tag=tag)
    n2 = create_node(second, tag=tag)
    n1 >> n2
    return n2.o0


@task(retries=0)
def light(x: int) -> int:
    """Fits Lambda as declared; the override below moves one call of it to Fargate."""
    _event("light", "start")
    return x * 10


@workflow
def overridden(x: int) -> int:
    small = light(x=x)
    big = light(x=small).with_overrides(
        requests=Resources(cpu=8, mem="32Gi"),
        timeout=timedelta(minutes=30),
        retries=1,
        cache=True,
        name="light_big",
    )
    return big


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@task(cache=True, cache_version="1")
def shift(  # noqa: PLR0917 - Flyte-style tasks take their inputs by name anyway
    when: dt.datetime,
    day: dt.date,
    by: dt.timedelta,
    price: decimal.Decimal,
    color: Color,
    n: Annotated[int, "count"],
) -> tuple[dt.datetime, dt.date, dt.timedelta, decimal.Decimal, Color]:
    _event("shift", "start")
    other = Color.BLUE if color is Color.RED else Color.RED
    return when + by, day + dt.timedelta(days=n), by * n, price * n, other


@workflow
def typed(  # noqa: PLR0917 - one input per new type
    when: dt.datetime, day: dt.date, by: dt.timedelta, price: decimal.Decimal, color: Color, n: int = 2
) -> tuple[dt.datetime, dt.date, dt.timedelta, decimal.Decimal, Color]:
    return shift(when=when, day=day, by=by, price=price, color=color, n=n)


@task
def note(season: str, tag: str) -> None:
    _event(f"note:{season}:{tag}", "start")


@task
def pair(text: str) -> tuple[str, int]:
    return text, len(text)


@workflow
def dated(day: dt.date, color: Color, tag: str) -> tuple[str, int]:
    """Conditions on a date and an Enum; cases of tasks without outputs ordered before the next
    step; a case returning two values."""
    marked = (
        conditional("weekend")
        .if_(day >= dt.date(2024, 6, 1))
        .then(note(season="summer", tag=tag))
        .else_()
        .then(note(season="spring", tag=tag))
    )
    result = (
        conditional("by_color")
        .if_(color == Color.RED)
        .then(pair(text="red"))
        .else_()
        .then(pair(text="not red"))
    )
    marked >> result[0]
    return result


@workflow
def sub_with_conditional(x: float) -> float:
    """A sub-workflow whose body holds a conditional (inlined with prefixed ids)."""
    return fractions(x=x)


@workflow
def clamp(x: int, limit: int) -> int:
    """A case that returns a workflow input: it has no nodes of its own."""
    return conditional("clamp").if_(x > limit).then(limit).else_().then(maybe_int(n=x))


@task
def describe(n: int) -> dict:
    """Flyte's untyped dict: a JSON object."""
    return {"n": n, "items": [1, 2.5, "x", None, True], "nested": {"a": [n]}}


@task
def count_items(d: dict) -> int:
    return d["n"] + len(d["items"])


@workflow
def untyped_dicts(n: int) -> tuple[dict, int]:
    d = describe(n=n)
    return d, count_items(d=d)
