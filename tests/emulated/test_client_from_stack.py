"""Client.from_stack and `stratoflow run --remote`: find a deployed stack by its outputs."""

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

pytestmark = pytest.mark.emulated


def _outputs_stack(sandbox: Sandbox, name: str, outputs: dict[str, str]) -> None:
    """A CloudFormation stack whose outputs look like the stratoflow stack's."""
    template = {
        "Resources": {"Marker": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    sandbox.aws.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture(scope="module")
def deployed() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        spec = lower(flows.diamond)
        sandbox.deploy(spec)
        assert sandbox.client is not None
        _outputs_stack(
            sandbox,
            "Stratoflow",
            {"BucketName": sandbox.bucket, "StateMachines": json.dumps(sandbox.client.state_machines)},
        )
        yield sandbox


def test_from_stack_reads_bucket_and_state_machines_from_the_outputs(deployed: Sandbox) -> None:
    client = Client.from_stack("Stratoflow", session=deployed.aws.session)
    assert client.bucket == deployed.bucket
    assert set(client.state_machines) == {"diamond"}
    assert client.run(flows.diamond, x=2).wait(timeout=60).outputs() == {"o0": "5+8"}


def test_from_stack_names_what_is_missing(deployed: Sandbox) -> None:
    _outputs_stack(deployed, "NotOurs", {"Something": "else"})
    with pytest.raises(ConfigError, match=r"not a stratoflow stack .*BucketName, StateMachines"):
        Client.from_stack("NotOurs", session=deployed.aws.session)
    with pytest.raises(ConfigError, match="cannot read stack 'Nowhere'"):
        Client.from_stack("Nowhere", session=deployed.aws.session)


def test_run_remote_submits_to_the_stack_and_prints_outputs(
    deployed: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    target = flows.__file__
    code = main(["run", "--remote", "--stack", "Stratoflow", "--json", target, "diamond", "--x", "4"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out) == {"o0": "9+16"}
    assert "SUCCEEDED" in captured.err


def test_run_remote_no_cache_runs_every_task_again(
    deployed: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["run", "--remote", "--stack", "Stratoflow", "--json", flows.__file__, "diamond", "--x", "11"]
    assert main(command) == 0
    before = sum(flows.CALLS.values())
    assert main(command) == 0  # every task cached
    assert sum(flows.CALLS.values()) == before
    assert main([*command[:2], "--no-cache", *command[2:]]) == 0
    assert sum(flows.CALLS.values()) - before == len(lower(flows.diamond).nodes)
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"o0": "23+44"}


def test_run_remote_rejects_a_bad_input_before_starting_anything(
    deployed: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sfn = deployed.aws.client("stepfunctions")
    arn = deployed.client.state_machines["diamond"] if deployed.client else ""
    before = len(sfn.list_executions(stateMachineArn=arn)["executions"])
    code = main(["run", "--remote", flows.__file__, "diamond", "--x", "four"])
    assert code == 2
    assert "input 'x' expects int" in capsys.readouterr().err
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == before


def test_executions_ls_and_show_remote(deployed: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    client = Client.from_stack("Stratoflow", session=deployed.aws.session)
    execution = client.run(flows.diamond, x=6).wait(timeout=60)
    capsys.readouterr()
    assert main(["executions", "ls", "--remote", "--stack", "Stratoflow"]) == 0
    listing = capsys.readouterr().out
    assert execution.run_id in listing
    assert "SUCCEEDED" in listing
    assert main(["executions", "show", execution.run_id, "--remote"]) == 0
    shown = capsys.readouterr().out
    assert "status    SUCCEEDED" in shown
    assert 'outputs   {"o0": "13+24"}' in shown
    assert main(["executions", "show", "no-such-run", "--remote"]) == 2
    assert "no execution named 'no-such-run'" in capsys.readouterr().err
