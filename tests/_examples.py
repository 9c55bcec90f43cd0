"""Load the example workflows the way ``stratoflow run examples/x.py`` does (module named by file stem)."""

from __future__ import annotations

from typing import Any

from stratoflow.define import WorkflowDef, load_workflow
from tests.conftest import EXAMPLES

# (file, workflow) of every example the README documents.
EXAMPLE_WORKFLOWS = [
    ("etl.py", "sales_report"),
    ("features.py", "features"),
    ("training.py", "training"),
    ("digits.py", "digits"),
]
SALES_CSV = EXAMPLES / "data" / "sales.csv"


def load_example(file: str, name: str) -> WorkflowDef[Any, Any]:
    return load_workflow(str(EXAMPLES / file), name)
