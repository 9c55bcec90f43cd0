"""One test per DefinitionError message: its exact text, and the file and line it points at (STYLE §4).

Each case is the source of a small module, written to a real file and imported; line 1 of
the source is line 1 of the file, so the expected line numbers can be read off the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from stratoflow import DefinitionError
from tests.define._cases import definition_error

PROMISE_HINT = "pass it to a task; use @dynamic or map_task for data-dependent logic"
SUPPORTED = (
    "int, float, str, bool, None, bytes, list[T], dict[K, T], Optional[T], "
    "dataclasses, pydantic models, File, Directory, datetime, date, timedelta, Decimal, Enum, "
    "pandas.DataFrame, pyarrow.Table"
)

# Shared by most workflow cases: lines 1-11. A case body starts at line 12.
TASKS = """\
from stratoflow import map_task, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def to_text(x: int) -> str:
    return str(x)
"""


def misuse(what: str) -> str:
    return (
        f"output 'o0' of node 'inc' is a promise and cannot be used as a Python value ({what}) "
        "in workflow 'wf'"
    )


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    problems: tuple[tuple[int, str, str | None], ...]  # (line, message, hint)


CASES = [
    # --- promises used as Python values --------------------------------------------------------
    Case(
        "promise-in-if",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    if y:
        return inc(x=y)
    return y
""",
        ((16, misuse("truth test, e.g. 'if' or 'and'"), PROMISE_HINT),),
    ),
    Case(
        "promise-in-for",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    for item in y:
        x = inc(x=item)
    return inc(x=x)
""",
        ((16, misuse("iteration"), PROMISE_HINT),),
    ),
    Case(
        "promise-in-arithmetic",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return inc(x=y + 1)
""",
        ((16, misuse("arithmetic or comparison"), PROMISE_HINT),),
    ),
    Case(
        "promise-in-len",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    n = len(y)
    return inc(x=n)
""",
        ((16, misuse("len()"), PROMISE_HINT),),
    ),
    Case(
        "promise-in-bool",
        TASKS
        + """
@workflow
def wf(x: int) -> bool:
    y = inc(x=x)
    return bool(y)
""",
        ((16, misuse("truth test, e.g. 'if' or 'and'"), PROMISE_HINT),),
    ),
    Case(
        "promise-compared",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    same = y == 1
    return inc(x=x)
""",
        ((16, misuse("comparison"), PROMISE_HINT),),
    ),
    Case(
        "promise-int",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return inc(x=int(y))
""",
        ((16, misuse("int()"), PROMISE_HINT),),
    ),
    Case(
        "promise-formatted",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    label = f"{y}"
    return inc(x=x)
""",
        ((16, misuse("string formatting"), PROMISE_HINT),),
    ),
    Case(
        "promise-indexed",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return inc(x=y[0])
""",
        ((16, misuse("indexing"), PROMISE_HINT),),
    ),
    Case(
        "promise-attribute-assigned",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    y.label = "first"
    return y
""",
        ((16, misuse("attribute assignment"), PROMISE_HINT),),
    ),
    Case(
        "promise-attribute-read",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return y.value
""",
        (
            (
                16,
                "workflow 'wf' body raised AttributeError: output 'o0' of node 'inc' is a promise; "
                "its attribute 'value' does not exist until the workflow runs",
                None,
            ),
        ),
    ),
    # --- calls inside a workflow ---------------------------------------------------------------
    Case(
        "unknown-keyword-did-you-mean",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    return inc(xx=x)
""",
        (
            (15, "task 'inc' got unexpected argument 'xx' in workflow 'wf'", "did you mean 'x'?"),
            (15, "task 'inc' is missing required input 'x' (int) in workflow 'wf'", None),
        ),
    ),
    Case(
        "unknown-keyword-lists-inputs",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    return inc(zzz=1, x=x)
""",
        ((15, "task 'inc' got unexpected argument 'zzz' in workflow 'wf'", "its inputs are: x"),),
    ),
    Case(
        "missing-required-input",
        """\
from stratoflow import task, workflow


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def wf(x: int) -> int:
    total = add(a=x)
    return total
""",
        ((11, "task 'add' is missing required input 'b' (int) in workflow 'wf'", None),),
    ),
    Case(
        "positional-argument",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    return inc(x)
""",
        (
            (
                15,
                "task 'inc' was called with 1 positional argument(s) in workflow 'wf'; "
                "inside a workflow, pass inputs by keyword",
                None,
            ),
        ),
    ),
    Case(
        "output-type-mismatch",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    text = to_text(x=x)
    return inc(x=text)
""",
        ((16, "input 'x' of task 'inc' expects int, but output 'o0' of node 'to_text' is str", None),),
    ),
    Case(
        "optional-map-output-into-list",
        TASKS
        + """
@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def wf(xs: list[int]) -> int:
    return total(xs=map_task(inc, min_success_ratio=0.5)(x=xs))
""",
        (
            (
                20,
                "input 'xs' of task 'total' expects list[int], but output 'o0' of node 'map_inc' "
                "is list[Optional[int]]",
                None,
            ),
        ),
    ),
    Case(
        "constant-of-wrong-type",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    return inc(x="three")
""",
        ((15, "input 'x' of task 'inc': expected int, got str 'three'", None),),
    ),
    Case(
        "list-for-a-scalar-input",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return inc(x=[y])
""",
        ((16, "input 'x' of task 'inc' expects int, got a list", None),),
    ),
    Case(
        "dict-for-a-scalar-input",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    return inc(x={"y": y})
""",
        ((16, "input 'x' of task 'inc' expects int, got a dict", None),),
    ),
    Case(
        "dict-of-promises-with-a-non-str-key",
        TASKS
        + """
@workflow
def wf(x: int) -> dict[str, int]:
    y = inc(x=x)
    return {1: y}
""",
        ((14, "output 'o0' of workflow 'wf' keys must be str, got int 1", None),),  # the return annotation
    ),
    Case(
        "dict-of-promises-with-a-wrong-value",
        TASKS
        + """
@workflow
def wf(x: int) -> dict[str, int]:
    return {"n": inc(x=x), "s": to_text(x=x)}
""",
        (
            (
                14,
                "output 'o0' of workflow 'wf' entry 's' expects int, but output 'o0' of node 'to_text' is str",
                None,
            ),
        ),
    ),
    Case(
        "sub-workflow-output-mismatch",
        TASKS
        + """
@workflow
def inner(x: int) -> str:
    return to_text(x=x)


@workflow
def wf(x: int) -> int:
    return inc(x=inner(x=x))
""",
        (
            (
                20,
                "input 'x' of task 'inc' expects int, but output 'o0' of node 'inner' is str",
                None,
            ),
        ),
    ),
    # --- what a workflow returns (reported at its return annotation) ----------------------------
    Case(
        "workflow-returns-wrong-type",
        TASKS
        + """
@workflow
def wf(x: int) -> str:
    return inc(x=x)
""",
        ((14, "output 'o0' of workflow 'wf' is str, but the value returned is int", None),),
    ),
    Case(
        "workflow-returns-value-but-none",
        TASKS
        + """
@workflow
def wf(x: int) -> None:
    return inc(x=x)
""",
        ((14, "workflow 'wf' returns a value but is annotated '-> None'", None),),
    ),
    Case(
        "workflow-returns-too-few",
        TASKS
        + """
@workflow
def wf(x: int) -> tuple[int, str]:
    return inc(x=x)
""",
        ((14, "workflow 'wf' must return 2 values", None),),
    ),
    Case(
        "workflow-body-raises",
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    raise RuntimeError("not yet")
""",
        ((16, "workflow 'wf' body raised RuntimeError: not yet", None),),
    ),
    # --- interfaces ----------------------------------------------------------------------------
    Case(
        "unsupported-annotation",
        """\
import fractions

from stratoflow import task


@task
def days_until(when: fractions.Fraction) -> int:
    return 0
""",
        (
            (
                7,
                f"task 'days_until' input 'when': type 'Fraction' is not supported (supported: {SUPPORTED})",
                None,
            ),
        ),
    ),
    Case(
        "unsupported-output-annotation",
        """\
from stratoflow import task


@task
def uniq(xs: list[int]) -> set[int]:
    return set(xs)
""",
        ((5, f"task 'uniq' output 'o0': type 'set' is not supported (supported: {SUPPORTED})", None),),
    ),
    Case(
        "unsupported-union",
        """\
from stratoflow import task


@task
def either(
    x: int | str,
) -> int:
    return 0
""",
        (
            (
                6,
                "task 'either' input 'x': unions other than Optional[T] are not supported: int | str",
                None,
            ),
        ),
    ),
    Case(
        "missing-parameter-annotation",
        """\
from stratoflow import task


@task
def double(x, y: int) -> int:
    return 2 * x
""",
        ((5, "task 'double' input 'x' has no type annotation", None),),
    ),
    Case(
        "var-args",
        """\
from stratoflow import task


@task
def total(*xs: int) -> int:
    return sum(xs)
""",
        ((5, "task 'total' may not take *args or **kwargs ('xs')", None),),
    ),
    Case(
        "tuple-of-unknown-length",
        """\
from stratoflow import task


@task
def split(x: int) -> tuple[int, ...]:
    return (x,)
""",
        ((5, "task 'split' returns a tuple of unknown length; annotate each item", None),),
    ),
    Case(
        "bad-default",
        """\
from stratoflow import task


@task
def double(x: int = "two") -> int:
    return 2 * x
""",
        ((5, "task 'double' input 'x' default: expected int, got str 'two'", None),),
    ),
    Case(
        "unresolvable-annotation",
        """\
from stratoflow import task


@task
def double(x: "Missing") -> int:  # noqa: F821
    return 2
""",
        ((5, "task 'double' has annotations that cannot be resolved: name 'Missing' is not defined", None),),
    ),
    # --- task options (reported at the decorator) -----------------------------------------------
    Case(
        "too-many-gpus",
        """\
from stratoflow import Resources, task


@task(requests=Resources(gpu=9))
def train(x: int) -> int:
    return x
""",
        (
            (
                4,
                "task 'train' requests resources no compute target can meet: "
                "gpu=9 exceeds 8 GPUs, the most any EC2 instance has",
                None,
            ),
        ),
    ),
    Case(
        "too-many-cpus",
        """\
from stratoflow import Resources, task


@task(requests=Resources(cpu=200))
def train(x: int) -> int:
    return x
""",
        (
            (
                4,
                "task 'train' requests resources no compute target can meet: "
                "cpu=200 exceeds 192 vCPUs, the largest EC2 instance",
                None,
            ),
        ),
    ),
    Case(
        "too-much-memory",
        """\
from stratoflow import Resources, task


@task(requests=Resources(cpu=4, mem="5Ti"))
def train(x: int) -> int:
    return x
""",
        (
            (
                4,
                "task 'train' requests resources no compute target can meet: "
                "memory=5242880 MiB exceeds 3984588 MiB, the most a job gets on the largest EC2 instance",
                None,
            ),
        ),
    ),
    Case(
        "lambda-forced-but-too-big",
        """\
from stratoflow import Resources, task


@task(requests=Resources(cpu=8), compute="lambda")
def train(x: int) -> int:
    return x
""",
        (
            (
                4,
                "task 'train' requests resources no compute target can meet: "
                "compute='lambda' but cpu=8.0 exceeds Lambda's 6 vCPUs",
                None,
            ),
        ),
    ),
    Case(
        "bad-memory-spelling",
        """\
from stratoflow import Resources, task


@task(requests=Resources(mem="lots"))
def train(x: int) -> int:
    return x
""",
        ((4, "task 'train': memory must look like '512Mi', '4Gi' or '2G', got 'lots'", None),),
    ),
    Case(
        "bad-cpu-spelling",
        """\
from stratoflow import Resources, task


@task(requests=Resources(cpu="two"))
def train(x: int) -> int:
    return x
""",
        ((4, "task 'train': cpu must be a positive number of vCPUs, got 'two'", None),),
    ),
    Case(
        "bad-task-options",
        """\
from stratoflow import task


@task(timeout=-5, retries=-1, compute="gpu-cluster", cache_ignore_input_vars=("y",))
def train(x: int) -> int:
    return x
""",
        (
            (4, "task 'train': timeout must be positive, got -5", None),
            (4, "task 'train': retries must be >= 0, got -1", None),
            (
                4,
                "task 'train': compute must be 'auto', 'lambda', 'fargate' or 'batch', got 'gpu-cluster'",
                None,
            ),
            (4, "task 'train': cache_ignore_input_vars names 'y', which is not an input", None),
        ),
    ),
    # --- map_task --------------------------------------------------------------------------------
    Case(
        "map-without-a-list-input",
        TASKS
        + """
@workflow
def wf(x: int) -> list[int]:
    return map_task(inc)(x=x)
""",
        ((15, "map_task(inc) needs at least one list input to map over", None),),
    ),
    Case(
        "map-of-a-non-task",
        """\
from stratoflow import map_task

mapped = map_task(len)
""",
        ((3, "map_task needs a @task (or functools.partial of one), got <built-in function len>", None),),
    ),
    Case(
        "map-options-out-of-range",
        """\
from stratoflow import map_task, task


@task
def pair(x: int) -> tuple[int, int]:
    return x, x


mapped = map_task(pair, concurrency=0, min_success_ratio=1.5, batch_size=0)
""",
        (
            (9, "map_task(pair): a mapped task may have at most one output", None),
            (9, "map_task(pair): concurrency must be between 1 and 10000, got 0", None),
            (9, "map_task(pair): min_success_ratio must be between 0 and 1, got 1.5", None),
            (9, "map_task(pair): batch_size must be >= 1, got 0", None),
        ),
    ),
    Case(
        "map-options-of-the-wrong-type",
        """\
from stratoflow import map_task, task


@task
def double(x: int) -> int:
    return 2 * x


mapped = map_task(double, concurrency=2.5, min_success_ratio="most", batch_size=True)
""",
        (
            (9, "map_task(double): concurrency must be a whole number, got 2.5", None),
            (9, "map_task(double): min_success_ratio must be a number, got 'most'", None),
            (9, "map_task(double): batch_size must be a whole number, got True", None),
        ),
    ),
    Case(
        "map-partial-binds-badly",
        """\
import functools

from stratoflow import map_task, task


@task
def scale(x: int, factor: int) -> int:
    return x * factor


mapped = map_task(functools.partial(scale, factor="big", offset=1))
""",
        (
            (11, "map_task(scale): bound input 'factor': expected int, got str 'big'", None),
            (11, "map_task(scale): partial binds unknown input 'offset'", None),
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_definition_error_message_and_location(tmp_path: Path, case: Case) -> None:
    path, error = definition_error(tmp_path, case.source)
    got = [(p.line, p.message, p.hint) for p in error.problems]
    assert got == list(case.problems)
    for problem in error.problems:
        assert Path(problem.path).resolve() == path.resolve()
    first_line = case.problems[0][0]
    assert error.location[1] == first_line
    assert Path(error.location[0]).resolve() == path.resolve()


def test_single_problem_renders_as_path_line_col(tmp_path: Path) -> None:
    source = (
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    return inc(xx=x, x=x)
"""
    )
    path, error = definition_error(tmp_path, source)
    assert Path(error.problems[0].path).resolve() == path.resolve()
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert (problem.line, problem.col) == (15, 12)  # the call `inc(...)`, 1-based column
    assert str(error) == (
        f"{problem.path}:15:12: error: task 'inc' got unexpected argument 'xx' in workflow 'wf' "
        "(did you mean 'x'?)"
    )
    assert isinstance(error, DefinitionError)


def test_several_problems_are_reported_together_numbered(tmp_path: Path) -> None:
    source = (
        TASKS
        + """
@workflow
def wf(x: int) -> int:
    y = inc(x=x)
    if y:
        pass
    z = inc(xx=y)
    n = len(y)
    return inc(x=to_text(x=n))
"""
    )
    path, error = definition_error(tmp_path, source)
    p = error.problems[0].path
    assert Path(p).resolve() == path.resolve()
    assert [(problem.line, problem.col) for problem in error.problems] == [
        (16, 5),
        (18, 9),
        (18, 9),
        (19, 9),
        (20, 12),
    ]
    truth = misuse("truth test, e.g. 'if' or 'and'")
    assert str(error).splitlines() == [
        "5 problems found:",
        f"  1. {p}:16:5: error: {truth} ({PROMISE_HINT})",
        f"  2. {p}:18:9: error: task 'inc' got unexpected argument 'xx' in workflow 'wf' (did you mean 'x'?)",
        f"  3. {p}:18:9: error: task 'inc' is missing required input 'x' (int) in workflow 'wf'",
        f"  4. {p}:19:9: error: {misuse('len()')} ({PROMISE_HINT})",
        f"  5. {p}:20:12: error: input 'x' of task 'inc' expects int, "
        "but output 'o0' of node 'to_text' is str",
    ]


def test_problems_in_several_tasks_of_one_module_stop_at_the_first_decorator(tmp_path: Path) -> None:
    # Each @task raises when it is applied; the module stops there, so only the first is reported.
    source = """\
from stratoflow import task


@task
def first(x) -> int:
    return x


@task
def second(y) -> int:
    return y
"""
    _, error = definition_error(tmp_path, source)
    assert [(p.line, p.message) for p in error.problems] == [
        (5, "task 'first' input 'x' has no type annotation")
    ]


def test_every_problem_of_one_task_is_reported_at_once(tmp_path: Path) -> None:
    source = """\
from stratoflow import task


@task(retries=-1)
def bad(
    x,
    *rest: int,
) -> set[int]:
    return set()
"""
    _, error = definition_error(tmp_path, source)
    assert [(p.line, p.message) for p in error.problems] == [
        (6, "task 'bad' input 'x' has no type annotation"),
        (7, "task 'bad' may not take *args or **kwargs ('rest')"),
        (8, f"task 'bad' output 'o0': type 'set' is not supported (supported: {SUPPORTED})"),
        (4, "task 'bad': retries must be >= 0, got -1"),
    ]
    assert str(error).startswith("4 problems found:\n  1. ")
