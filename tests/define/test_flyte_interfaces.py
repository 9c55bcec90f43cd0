"""Interfaces as flytekit reads them: no annotation, a bare tuple, a one-field NamedTuple.

No ``from __future__ import annotations`` here: a bare tuple ``-> (int, str)`` must be evaluated
(flytekit's ``get_type_hints`` cannot resolve it from a string either).
"""

from typing import NamedTuple

from stratoflow import task, workflow
from stratoflow.lower import lower


@task
def shout(message: str):  # flytekit's style: no return annotation
    return message.upper()  # dropped: the task has no outputs


@task
def nothing(x: int) -> ():
    return None


@task
def pair(x: int) -> (int, str):
    return x, str(x)


class Total(NamedTuple):
    total: int


@task
def total(xs: list[int]) -> Total:
    return sum(xs)  # the bare value, as flytekit allows


@task
def total_as_tuple(xs: list[int]) -> Total:
    return Total(total=sum(xs))


@workflow
def no_outputs(message: str):
    return shout(message=message)  # a workflow without a return annotation has no outputs either


@workflow
def totals(xs: list[int]) -> tuple[int, int]:
    return total(xs=xs).total, total_as_tuple(xs=xs).total


@workflow
def pair_wf(x: int) -> (int, str):
    return pair(x=x)


def test_no_return_annotation_or_an_empty_tuple_means_no_outputs() -> None:
    assert shout.spec.outputs == () and shout.spec.output_style == "none"
    assert nothing.spec.outputs == ()
    assert lower(no_outputs).outputs == ()
    assert lower(no_outputs).output_bindings == {}
    assert no_outputs(message="hi") is None


def test_a_bare_tuple_annotation_names_outputs_like_tuple() -> None:
    assert [(v.name, v.type.kind) for v in pair.spec.outputs] == [("o0", "int"), ("o1", "str")]
    assert pair.spec.output_style == "tuple"
    assert pair_wf(x=4) == (4, "4")


def test_a_one_field_namedtuple_takes_the_bare_value_or_the_tuple() -> None:
    assert [v.name for v in total.spec.outputs] == ["total"]
    assert totals(xs=[1, 2, 3]) == (6, 6)


def test_plain_calls_stay_plain() -> None:
    assert shout(message="a") == "A"  # outside a workflow a task is its function
