"""A node's deck page is in its record (``NodeRecord.deck``), locally and remotely, and
``executions show`` prints where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratoflow import cli, ir
from stratoflow.backends.local import RunHistory, RunOptions, run_recorded
from stratoflow.cache import default_home
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import records_flows as flows

pytestmark = pytest.mark.emulated


def test_a_local_record_names_its_deck_and_show_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_recorded(lower(flows.decked), {"n": 2}, RunOptions(progress=False))
    records = {r.node: r for r in RunHistory(default_home() / "runs.sqlite").nodes(run.run_id)}
    deck = records["report"].deck
    assert deck is not None and "<p>n is 2</p>" in Path(deck).read_text()
    assert records["plain"].deck is None
    capsys.readouterr()
    assert cli.main(["executions", "show", run.run_id]) == 0
    assert f"deck      report: {deck}\n" in capsys.readouterr().out


def test_a_remote_record_names_its_deck_in_the_bucket() -> None:
    with Sandbox() as sandbox:
        assert sandbox.client is not None
        execution = sandbox.run(lower(flows.decked), {"n": 3}, timeout=60)
        records = {r.node: r for r in sandbox.client.node_records(execution.run_id)}
    deck = records["report"].deck
    assert (
        deck
        == f"s3://{sandbox.bucket}/{ir.protocol.deck_key(lower(flows.decked).name, execution.run_id, 'report')}"
    )
    assert records["plain"].deck is None and records["plain"].status == ir.NodeStatus.SUCCEEDED
