"""Golden files: every case in cases/ compiles to exactly golden/<case>.asl.json."""

from __future__ import annotations

import difflib

import pytest

from stratoflow.backends import asl
from tests.compile.asl_cases import CASE_NAMES, GOLDEN_DIR, load_case


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_matches_golden_file(case: str, update_golden: bool) -> None:
    actual = asl.compile_workflow(load_case(case)).definition_json()
    golden = GOLDEN_DIR / f"{case}.asl.json"
    if update_golden:
        golden.write_text(actual)
        return
    if not golden.exists():
        pytest.fail(f"{golden} is missing; run pytest tests/compile --update-golden and review it")
    expected = golden.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{case}.asl.json",
                tofile="compiled",
            )
        )
        pytest.fail(f"compiled ASL differs from the golden file (--update-golden to accept):\n{diff}")


def test_every_golden_file_has_a_case() -> None:
    orphans = sorted(
        {p.name.removesuffix(".asl.json") for p in GOLDEN_DIR.glob("*.asl.json")} - set(CASE_NAMES)
    )
    assert orphans == [], f"golden files without a case in cases/: {orphans}"
