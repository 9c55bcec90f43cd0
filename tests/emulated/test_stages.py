"""Stages: ``Client.from_stack(..., stage=)`` and ``--remote --stage`` find ``<stack>-<stage>``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from stratoflow.cli import main
from stratoflow.client import Client
from stratoflow.errors import ConfigError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.emulated import flows
from tests.emulated.test_client_from_stack import _outputs_stack

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def staged() -> Iterator[Sandbox]:
    """One data plane whose outputs only a ``prod`` stage's stack carries (no unstaged stack)."""
    with Sandbox() as sandbox:
        sandbox.deploy(lower(flows.diamond))
        assert sandbox.client is not None
        outputs = {"BucketName": sandbox.bucket, "StateMachines": json.dumps(sandbox.client.state_machines)}
        _outputs_stack(sandbox, "Stratoflow-prod", outputs)
        yield sandbox


def test_from_stack_finds_the_stages_stack(staged: Sandbox) -> None:
    client = Client.from_stack("Stratoflow", session=staged.aws.session, stage="prod")
    assert client.bucket == staged.bucket
    assert client.run(flows.diamond, x=2).wait(timeout=60).outputs() == {"o0": "5+8"}
    with pytest.raises(ConfigError, match="cannot read stack 'Stratoflow-dev'"):
        Client.from_stack("Stratoflow", session=staged.aws.session, stage="dev")
    with pytest.raises(ConfigError, match="stage 'no/pe' must be 1-32 letters, digits and '-'"):
        Client.from_stack("Stratoflow", session=staged.aws.session, stage="no/pe")


def test_run_remote_stage(staged: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--remote", "--stage", "prod", "--json", flows.__file__, "diamond", "--x", "4"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out) == {"o0": "9+16"}
    # Without --stage the unstaged stack is meant, and there is none.
    assert main(["run", "--remote", "--json", flows.__file__, "diamond", "--x", "4"]) == 2
    assert "cannot read stack 'Stratoflow'" in capsys.readouterr().err
