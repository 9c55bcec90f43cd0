"""A map_task called outside a workflow (plain Python, issue 14): retries and min_success_ratio apply."""

from __future__ import annotations

import pytest

from stratoflow import map_task, task
from stratoflow.errors import TaskFailedError

ATTEMPTS: dict[int, int] = {}


@task(retries=2)
def flaky(x: int) -> int:
    """Fails on its first two attempts for every odd x."""
    ATTEMPTS[x] = ATTEMPTS.get(x, 0) + 1
    if x % 2 and ATTEMPTS[x] <= 2:
        raise ConnectionError(f"flake {x}")
    return x * 10


@task
def picky(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative {x}")
    return x


@pytest.fixture(autouse=True)
def _reset() -> None:
    ATTEMPTS.clear()


def test_retries_are_honoured() -> None:
    assert map_task(flaky)(x=[1, 2, 3]) == [10, 20, 30]
    assert ATTEMPTS == {1: 3, 2: 1, 3: 3}


def test_failed_items_become_none_within_the_ratio() -> None:
    assert map_task(picky, min_success_ratio=0.5)(x=[1, -2, 3, 4]) == [1, None, 3, 4]


def test_too_many_failures_raise_naming_the_items() -> None:
    with pytest.raises(TaskFailedError) as info:
        map_task(picky, min_success_ratio=0.75)(x=[1, -2, -3, 4])
    assert str(info.value) == (
        "map_task(picky): 2 of 4 items failed, more than min_success_ratio=0.75 allows; "
        "first errors: [1] ValueError: negative -2; [2] ValueError: negative -3"
    )
    assert info.value.error_type == "ValueError"
    assert isinstance(info.value.__cause__, ValueError)


def test_default_ratio_raises_the_items_own_exception_after_its_retries() -> None:
    @task(retries=1)
    def always(x: int) -> int:
        ATTEMPTS[x] = ATTEMPTS.get(x, 0) + 1
        raise KeyError(x)

    with pytest.raises(KeyError):
        map_task(always)(x=[5, 6])
    assert ATTEMPTS == {5: 2}  # stopped at the first failed item, after its one retry
