"""The examples/digits.py workflow, as shipped: its compiled ASL is pinned too."""

from pathlib import Path

from stratoflow.define import load_workflow

WORKFLOW = load_workflow(str(Path(__file__).resolve().parents[3] / "examples" / "digits.py"), "digits")
