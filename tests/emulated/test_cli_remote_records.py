"""``executions show --remote`` (the node table, ``--items``, ``--json``), ``logs --remote`` (CloudWatch,
moto's logs backend)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from stratoflow import cli, ir
from stratoflow.cli._node_logs import read_node_log
from stratoflow.client._records import RecordsSeen, stored_records
from stratoflow.errors import ConfigError
from stratoflow.lower import lower
from stratoflow.testing._sandbox import Sandbox
from tests.local import _record_flows as flows

pytestmark = pytest.mark.emulated

S = ir.NodeStatus


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Sandbox, str]]:
    """The recorded workflow deployed and run once, behind a stack named Stratoflow."""
    with Sandbox() as sandbox:
        assert sandbox.client is not None
        run_id = sandbox.run(lower(flows.recorded), {"n": 4}, timeout=90).run_id
        template = {
            "Resources": {"Marker": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {
                "BucketName": {"Value": sandbox.bucket},
                "StateMachines": {"Value": json.dumps(sandbox.client.state_machines)},
            },
        }
        cloudformation = sandbox.aws.client("cloudformation")
        cloudformation.create_stack(StackName="Stratoflow", TemplateBody=json.dumps(template))
        yield sandbox, run_id


def test_show_remote_prints_the_node_table(
    deployed: tuple[Sandbox, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, run_id = deployed
    code, out, _ = _run(capsys, "executions", "show", run_id, "--remote")
    assert code == 0
    assert "status    SUCCEEDED\n" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line and line.split()[0] in {
        "NODE", "spread", "flaky", "map_shout", "negate"}}  # fmt: skip
    assert rows["NODE"] == ["NODE", "STATUS", "ATTEMPTS", "TARGET", "DURATION", "CACHE", "ITEMS", "ERROR"]
    assert rows["flaky"][1:4] == ["succeeded", "2", "lambda"]
    assert rows["spread"][1:4] == ["succeeded", "1", "lambda"] and rows["spread"][5] == "miss"
    assert "3 ok / 1 failed / 0 cached" in " ".join(rows["map_shout"])
    assert rows["negate"][1:4] == ["skipped", "-", "none"]
    assert "map_shout[2]" not in out
    code, out, _ = _run(capsys, "executions", "show", run_id, "--remote", "--items")
    (item,) = [line for line in out.splitlines() if line.strip().startswith("map_shout[2]")]
    assert item.split()[1:4] == ["failed", "1", "lambda"]
    assert item.endswith(
        "task in node 'map_shout[2]' failed (attempt 1): ValueError: two is not allowed (x=2)"
    )


def test_show_remote_json_has_the_run_and_every_record(
    deployed: tuple[Sandbox, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, run_id = deployed
    code, out, _ = _run(capsys, "executions", "show", run_id, "--remote", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["run"]["status"] == "SUCCEEDED" and shown["run"]["backend"] == "remote"
    assert shown["run"]["skipped"] == ["negate"]
    records = {(r["node"], r["item"]): ir.NodeRecord.model_validate(r) for r in shown["nodes"]}
    assert records["map_shout", 2].status == S.FAILED
    assert records["map_shout", 2].traceback is not None
    assert records["flaky", None].logs is not None and records["flaky", None].logs.kind == "cloudwatch"


def test_logs_remote_reads_the_nodes_cloudwatch_stream(
    deployed: tuple[Sandbox, str], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, run_id = deployed
    assert sandbox.client is not None
    record = next(r for r in sandbox.client.node_records(run_id) if r.node == "spread")
    assert record.logs is not None and record.logs.group and record.logs.stream
    logs = sandbox.aws.client("logs")
    logs.create_log_group(logGroupName=record.logs.group)
    logs.create_log_stream(logGroupName=record.logs.group, logStreamName=record.logs.stream)
    assert record.started is not None
    when = int(record.started * 1000)
    logs.put_log_events(
        logGroupName=record.logs.group,
        logStreamName=record.logs.stream,
        logEvents=[
            {"timestamp": when - 60_000, "message": "an earlier invocation's line"},
            {"timestamp": when + 1, "message": "spreading 4"},
        ],
    )
    code, out, _ = _run(capsys, "logs", run_id, "spread", "--remote")
    assert (code, out) == (0, "spreading 4\n")  # only the lines of the node's own invocation
    with pytest.raises(ConfigError, match=r"logs to CloudWatch .*read it with --remote"):
        read_node_log(record)
    code, _, err = _run(capsys, "logs", run_id, "nowhere", "--remote")
    assert code == 2 and "no node 'nowhere' in run" in err


def test_an_executions_records_read_after_a_poller_get_only_what_changed(
    deployed: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sandbox's last read of a run's records reuses what its progress poller read (issue 14).
    sandbox, run_id = deployed
    assert sandbox.client is not None
    execution = sandbox.client.execution(run_id)
    seen: RecordsSeen = {}
    stored_records(execution.client.s3, sandbox.bucket, execution.spec.name, run_id, seen)
    assert seen  # the poller read every record object once
    s3 = execution.client.s3
    gets: list[str] = []
    real_get = s3.get_object

    def counted(**kwargs: object) -> object:
        gets.append(str(kwargs["Key"]))
        return real_get(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(s3, "get_object", counted)
    again = execution.node_records(seen=seen)
    assert not [key for key in gets if "/records/" in key]
    monkeypatch.undo()
    assert again == execution.node_records()
