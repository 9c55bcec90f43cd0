"""Conditionals locally: `executions show` names the skipped nodes; the graph view draws the cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import ir
from stratoflow.backends import asl
from stratoflow.backends.graph import to_mermaid
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.cli import main
from stratoflow.lower import lower
from tests.emulated import lang_flows

FLOWS = lang_flows.__file__


def test_executions_show_lists_the_nodes_of_untaken_cases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--json", FLOWS, "fractions", "--x", "3.0"]) == 0
    capsys.readouterr()
    assert main(["executions", "ls"]) == 0
    run_prefix = capsys.readouterr().out.split()[0]
    assert main(["executions", "show", run_prefix]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert 'outputs   {"o0": 18.0}' in shown
    assert "skipped   double, negate (cases their conditionals did not take)" in shown


def test_a_run_taking_every_case_it_reaches_shows_no_skipped_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--json", FLOWS, "ordered", "--tag", "cli"]) == 0
    capsys.readouterr()
    assert main(["executions", "ls"]) == 0
    assert main(["executions", "show", capsys.readouterr().out.split()[0]]) == 0
    assert not any(line.startswith("skipped") for line in capsys.readouterr().out.splitlines())


def test_the_graph_view_draws_conditionals_their_cases_and_ordering_edges() -> None:
    fractions = to_mermaid(lower(lang_flows.fractions)).splitlines()
    assert '  fractions{"conditional fractions"}' in fractions
    assert "  fractions -.-> double" in fractions
    assert "  fractions -.-> small" in fractions
    assert "  small -.-> square" in fractions
    assert "  square --> small" in fractions
    assert "  fractions --> double_2" in fractions
    ordered = to_mermaid(lower(lang_flows.ordered)).splitlines()
    assert "  first --> second" in ordered


def test_a_case_may_return_a_value_it_does_not_compute(tmp_path: Path) -> None:
    spec = lower(lang_flows.clamp)
    (branch,) = spec.nodes
    assert isinstance(branch, ir.BranchNode) and branch.cases[0].nodes == ()
    states = asl.compile_workflow(spec).definition["States"]
    # The empty case goes straight from the Choice to the finish step.
    assert {"NumericEquals": 0, "Next": "clamp__finish", "Variable": "$.branch.case"} in states[
        "clamp__case"
    ]["Choices"]
    options = RunOptions(home=tmp_path, progress=False)
    assert run_local(spec, {"x": 9, "limit": 5}, options).outputs == {"o0": 5}
    assert run_local(spec, {"x": 3, "limit": 5}, options).outputs == {"o0": 3}
