"""StructuredDataset, Deck and ShellTask on emulated AWS: the local results, from the Lambda runner,
Distributed Map items and a Fargate container; deck pages in the bucket under the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from stratoflow import ir
from stratoflow.aws import S3RunStorage
from stratoflow.backends.local import RunOptions, run_local
from stratoflow.define import deck_location
from stratoflow.errors import TaskFailedError
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.flyte_compat.flows import decks, structured_flows
from tests.flyte_compat.flows.basics import shell_task
from tests.flyte_compat.flows.data_types_and_io import pydantic_basemodel, structured_dataset

pytestmark = pytest.mark.emulated


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as stack:
        yield stack


def _local(spec: ir.WorkflowSpec, home: Path) -> dict[str, Any]:
    return run_local(spec, {}, RunOptions(home=home, progress=False, retry_base_seconds=0.01)).outputs


def test_the_docs_subset_workflow_on_lambda(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(structured_dataset.simple_sd_wf)
    local = _local(spec, tmp_path)["o0"].open(pd.DataFrame).all()
    remote = sandbox.run(spec, {}).outputs()["o0"].open(pd.DataFrame).all()
    pd.testing.assert_frame_equal(remote, local)
    assert remote["Age"].tolist() == [19, 22, 30]


def test_pyarrow_map_items_and_a_container_task_give_the_local_outputs(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = lower(structured_flows.weather)
    assert spec.tasks["row_count_on_a_container"].requests.cpu == 8  # routed to Fargate
    assert sandbox.run(spec, {}).outputs() == _local(spec, tmp_path)


def test_a_missing_column_fails_the_same_node_with_the_same_words(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(structured_flows.missing_column_wf)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {}, RunOptions(home=tmp_path, progress=False))
    with pytest.raises(TaskFailedError) as remote:
        sandbox.run(spec, {})
    assert remote.value.node == local.value.node == "wants_missing"
    assert "the table has no column 'rain' (its columns: city, temp, id)" in str(remote.value)


def test_decks_are_stored_in_the_bucket_per_node(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(decks.wf)
    execution = sandbox.run(spec, {})
    assert execution.outputs() == _local(spec, tmp_path)
    s3 = sandbox.aws.client("s3")
    storage = S3RunStorage(s3, sandbox.bucket)
    key = protocol.deck_key(spec.name, execution.run_id, "t1")
    assert deck_location(storage, spec.name, execution.run_id, "t1") == f"s3://{sandbox.bucket}/{key}"
    head = s3.head_object(Bucket=sandbox.bucket, Key=key)
    assert head["ContentType"].startswith("text/html")
    page = s3.get_object(Bucket=sandbox.bucket, Key=key)["Body"].read().decode()
    assert "<h2>demo</h2>" in page and "<p>#Hello Flyte" in page
    assert deck_location(storage, spec.name, execution.run_id, "t3") is None
    item = deck_location(storage, spec.name, execution.run_id, "map_t2[0]")
    assert item is not None


def test_the_docs_shell_workflow_on_lambda(sandbox: Sandbox, tmp_path: Path) -> None:
    for wf in (shell_task.wf, shell_task.steps_wf):
        spec = lower(wf)
        local, remote = _local(spec, tmp_path), sandbox.run(spec, {}).outputs()
        if wf is shell_task.wf:
            assert Path(remote["o0"]).read_text() == Path(local["o0"]).read_text() == "0\n"
        else:
            assert remote == local


def test_a_failing_script_fails_with_the_same_words_on_aws(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(shell_task.failing_wf)
    with pytest.raises(TaskFailedError) as local:
        run_local(spec, {}, RunOptions(home=tmp_path, progress=False))
    with pytest.raises(TaskFailedError) as remote:
        sandbox.run(spec, {})
    assert (remote.value.node, remote.value.error_type) == (local.value.node, local.value.error_type)
    assert str(remote.value).endswith("No such file or directory")


def test_a_container_stores_its_deck_and_runs_a_shell_task(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = lower(decks.container_wf)
    execution = sandbox.run(spec, {})
    assert execution.outputs() == _local(spec, tmp_path) == {"o0": 40}
    storage = S3RunStorage(sandbox.aws.client("s3"), sandbox.bucket)
    assert deck_location(storage, spec.name, execution.run_id, "big") is not None
    shell = lower(shell_task.container_wf)
    assert shell.tasks["t1_on_a_container"].requests.cpu == 8
    assert (
        sandbox.run(shell, {}).outputs()
        == _local(shell, tmp_path)
        == {"o0": "Showcasing Flyte's Shell Task.\nFound it!\n"}
    )


def test_a_dataset_from_an_s3_uri_is_pinned_and_read(sandbox: Sandbox, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    local_copy = tmp_path / "in.parquet"
    frame.to_parquet(local_copy)
    s3 = sandbox.aws.client("s3")
    s3.put_object(Bucket=sandbox.bucket, Key="user/in.parquet", Body=local_copy.read_bytes())
    spec = lower(structured_flows.uri_wf)
    remote = sandbox.run(spec, {"path": f"s3://{sandbox.bucket}/user/in.parquet"}).outputs()
    local = run_local(spec, {"path": str(local_copy)}, RunOptions(home=tmp_path, progress=False)).outputs
    assert remote == local == {"o0": ["a", "b"]}


def test_a_pydantic_model_holding_a_file_a_folder_and_a_table_on_lambda(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # flytesnacks' pydantic_basemodel.py: download_data checks all three on the Lambda runner.
    spec = lower(pydantic_basemodel.basemodel_wf)
    inputs = {"x": 10, "y": 20}
    local = run_local(spec, inputs, RunOptions(home=tmp_path, progress=False)).outputs
    remote = sandbox.run(spec, inputs).outputs()
    assert remote["o0"] == local["o0"] == pydantic_basemodel.Datum(x=30, y="1020", z={10: "10", 20: "20"})
    stored = remote["o1"]
    assert stored.file == local["o1"].file  # Files compare by contents
    assert Path(stored.file).read_text() == "Hello, World!"
    assert sorted(p.name for p in Path(stored.directory).iterdir()) == ["df.parquet"]
    frame = stored.dataframe.open(pd.DataFrame).all()
    pd.testing.assert_frame_equal(frame, local["o1"].dataframe.open(pd.DataFrame).all())
